"""HTTP routers of the Beat API, one module per resource."""
