"""Helpers for the CNN course notebooks: data, plots, checks, widgets."""
