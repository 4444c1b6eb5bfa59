"""``collect``: a class's gradebook, roster, deadlines, TA scores, similarity, LMS and feedback."""
