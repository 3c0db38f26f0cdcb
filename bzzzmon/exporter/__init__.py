"""The companion exporter: probes every BZZZ component and serves ``bzzz_system_health_score``.

Modules: ``yamlfile`` (reading config files, errors with line:col), ``config`` (exporter.yml),
``probes`` (one probe attempt each), ``scoring`` (pure functions), ``state`` (latest results and
counters), ``scheduler`` (the background probe loop), ``collector`` (the metrics page as text),
``webconfig`` (TLS and basic auth settings), ``auth`` (bounded, cached password checks),
``connections`` (connection cap and timeouts), ``logs`` (rate-limited logging), ``service``
(one running exporter and its worker pools), ``server`` (the aiohttp app) and ``main`` (wiring,
SIGHUP reload).
"""
