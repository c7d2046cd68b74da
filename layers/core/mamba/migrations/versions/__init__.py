"""The migrations, one module each, named ``m<4-digit version>_<what>.py``; found by ``registry``."""
