"""The companion exporter: probes every BZZZ component and serves ``bzzz_system_health_score``.

Modules: ``yamlfile`` (reading config files, errors with line:col), ``config`` (exporter.yml),
``probes`` (one probe attempt each), ``fileprobe`` (the newest file matching a pattern),
``lag`` (how late the probe loop runs), ``scoring`` (pure functions), ``state`` (latest results and
counters), ``scheduler`` (the background probe loop), ``collector`` (the metrics page as text),
``webconfig`` (TLS and basic auth settings), ``auth`` (bounded, cached password checks),
``connections`` (connection cap and timeouts), ``logs`` (rate-limited logging), ``service``
(one running exporter and its worker pools), ``page`` (the pages rendered once per round),
``selfmetrics`` (``process_*``), ``server`` (the aiohttp app), ``prober`` (the probe
loop's process), ``frames`` (pages handed from the prober to the server), ``remote`` (the
server's side of it) and ``main`` (wiring, SIGHUP reload).
"""
