"""Tools for scale, not stages: the seeded corpus generator and the benchmark."""
