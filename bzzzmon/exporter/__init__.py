"""The companion exporter: probes every BZZZ component and serves ``bzzz_system_health_score``.

Modules: ``config`` (exporter.yml), ``probes`` (one probe attempt each), ``scoring`` (pure
functions), ``state`` (latest results and counters), ``scheduler`` (the background probe loop),
``collector`` (the prometheus_client Collector), ``webconfig`` (TLS and basic auth), ``server``
(the aiohttp app) and ``main`` (wiring, SIGHUP reload).
"""
