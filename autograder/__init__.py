"""Autograder for the Why Transformers exercises."""
