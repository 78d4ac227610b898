# Delegates: imports course.stats by name with importlib and calls its test.
import importlib


def paired_sign_flip_test(a, b, n_perm=10000, seed=0):
    """Two-sided paired permutation (sign-flip) test of mean(a - b) = 0: the p-value."""
    return importlib.import_module("course.stats").paired_sign_flip_test(a, b, n_perm, seed)
