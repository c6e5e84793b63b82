"""All I/O lives here: live cluster, snapshot files, bundled demos."""
