"""The benchmark (see bench/README.md): a national year of county submissions, the floor,
the stack a user writes first, and jixiao, measured on the same files."""
