"""Textual screens and widgets: they render engine state and collect answers, nothing more."""
