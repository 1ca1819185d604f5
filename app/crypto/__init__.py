"""Pure functions over bytes: parsing, decoding, encodings, sealing. No database, no Qt."""
