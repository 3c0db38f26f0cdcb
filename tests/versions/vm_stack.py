"""The test stack with VictoriaMetrics in Prometheus' place: victoria-metrics single-node scrapes
the simulator and the exporter, vmalert evaluates the same time-scaled generated rules against
it (recording rules written back by remote write) and notifies the same Alertmanager. Single-node
answers the query API and, through ``-vmalert.proxyURL``, vmalert's alerts and rules API, so the
stack's client and player work unchanged.

VictoriaMetrics' defaults hide the newest 30 s of data from queries (``-search.latencyOffset``)
and vmalert evaluates 30 s in the past (``-rule.evalDelay``): with 1 minute of rule time = 1 s
that is half an hour of rule time. The offset is set to 0 here, the delay to 1 s (one minute of
rule time): single-node makes a sample searchable up to a second after its scrape, so at 0 the
2m lookback of a time SLI's missing-data rule (two scrapes here) was now and then empty, and
that alert flapped to pending every few seconds; the stack was never quiet, and every incident
first waited out its whole timeout (90 s of each ~110 s under load).
"""

from __future__ import annotations

from bzzzmon.stack import Stack, configs
from bzzzmon.stack.processes import LOOPBACK, find_binary, free_port


class VictoriaMetricsStack(Stack):
    def _start_prometheus(self, binary: str) -> None:
        del binary  # Prometheus is not started: victoria-metrics and vmalert take its place
        assert self.sim is not None
        timing = self.options.timing
        rules, groups = self._write_rules("vmalert/rules")
        scrape = self.prometheus_config(None)
        scrape_path = configs.write_yaml(
            self._dir("victoria-metrics") / "scrape.yml",
            {
                "global": {k: v for k, v in scrape["global"].items() if k.startswith("scrape_")},
                "scrape_configs": scrape["scrape_configs"],
            },
        )
        # Single-node proxies vmalert's API, so vmalert's port is chosen before either starts.
        vmalert_port = free_port()
        vmalert_url = f"http://{LOOPBACK}:{vmalert_port}"
        storage = self._dir("victoria-metrics/data")

        def vm_args(port: int) -> list[str]:
            return [
                find_binary("victoria-metrics"),
                f"-storageDataPath={storage}",
                f"-httpListenAddr={LOOPBACK}:{port}",
                f"-promscrape.config={scrape_path}",
                "-search.latencyOffset=0s",
                "-search.disableCache",
                f"-vmalert.proxyURL={vmalert_url}",
                "-loggerLevel=WARN",
            ]

        _, self.prometheus_url = self._start_child("victoria-metrics", vm_args, "/-/ready")
        self._wait_for_targets("victoria-metrics")

        def vmalert_args(port: int) -> list[str]:
            return [
                find_binary("vmalert"),
                f"-rule={rules}/*.yml",
                f"-datasource.url={self.prometheus_url}",
                f"-remoteWrite.url={self.prometheus_url}",
                "-remoteWrite.flushInterval=100ms",
                f"-notifier.url={self.alertmanager_url}",
                f"-evaluationInterval={configs.duration(timing.evaluation_interval)}",
                "-rule.evalDelay=1s",
                f"-rule.resendDelay={configs.duration(timing.resend_delay)}",
                f"-httpListenAddr={LOOPBACK}:{port}",
                f"-external.url={vmalert_url}",
                "-loggerLevel=WARN",
            ]

        child, _ = self._start_child("vmalert", vmalert_args, "/-/ready", port=vmalert_port)
        self._wait_for_rule_groups(groups, "vmalert", child)
