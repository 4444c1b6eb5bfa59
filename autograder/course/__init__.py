"""Running the course: release, stubs, nbgrader, Gradescope, class collection, regrading."""
