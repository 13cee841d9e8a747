"""backprop-crosscheck: the harness (cross-check, tolerance policy, table, command line)."""
