/** Paths of promtool and prometheus, installing Debian's package first when either is missing ('' when unavailable). */
export function prometheusBinaries(): { promtool: string; prometheus: string };
