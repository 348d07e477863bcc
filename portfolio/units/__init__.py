"""Units of competency as data: the unit file schema, the loader, importing from published
texts, the sync into tables, and the pages and frameworks read from them."""
