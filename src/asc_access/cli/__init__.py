"""The ``asc-access`` command line: a thin shell over the library."""
