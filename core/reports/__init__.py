"""The links report (`beat links INPUT -o REPORT`): a sheet of pasted post links in, one row of
metrics per link out. `inputs` reads the links, `job` routes, refreshes and reads them through
the queue and the platforms' Lookups, `report` is the row and its columns, `xlsx` and `csvfile`
write it. Platform-neutral: platforms are learned from the registry."""
