// Prometheus and promtool for the rule checks and the dashboard test: Debian's `prometheus`
// package (2.42), installed when missing. The package's own service is stopped and disabled
// right away, so nothing stays bound to :9090; trackme runs the binary itself when it needs one.
import { spawnSync } from 'node:child_process';

const found = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();

/** Paths of promtool and prometheus, installing Debian's package first when either is missing. */
export function prometheusBinaries() {
  if (!found('promtool') || !found('prometheus')) {
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    console.log('[prometheus] installing Debian\'s prometheus package (promtool, prometheus)');
    spawnSync(
      'sh',
      [
        '-c',
        `flock /tmp/trackme-apt.lock ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus` +
          ` && (${sudo}systemctl disable --now prometheus 2>/dev/null || ${sudo}service prometheus stop 2>/dev/null || true)`,
      ],
      { stdio: 'inherit' },
    );
  }
  return { promtool: found('promtool'), prometheus: found('prometheus') };
}
