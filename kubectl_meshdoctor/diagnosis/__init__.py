"""The call path hop by hop (B24), cross-layer rules and Hubble evidence."""
