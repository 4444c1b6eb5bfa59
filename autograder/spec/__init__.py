"""What is graded and how: the exercises and checks (registry) and the instructor's settings."""
