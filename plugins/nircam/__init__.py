"""spec2 plugin package for NIRCAM.

Nothing is registered yet: this package has no entry point until its first exposure type
is implemented (see the project's issues). spec2 reports NIRCAM exposures as unsupported.
"""
