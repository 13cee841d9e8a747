"""`bpcheck verify`: check numbers someone computed (by hand, or with their own implementation)
against the exact reference, quantity by quantity in the post's order, and name the known
mistakes that would produce the wrong ones.

- `values`: the values file (one `quantity = value` a line, kept as written).
- `formulas`: the post's step as a table of local formulas, one per quantity (the walk
  recomputes a quantity from the person's own earlier values with it).
- `mistakes`: the catalogue: each mistake is the step with one piece swapped.
- `walk`: compares, classifies (ok / too-coarse / wrong / carried) and explains.
- `implementation`: loads someone's backend and runs it through the cross-check.
"""
