"""Documents for auditors: evidence packs, mapping matrices, outcome registers, bundles."""
