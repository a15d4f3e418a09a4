import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { findExecutable } from "../../shared/process/find-executable.js";

/** One network namespace standing for a host: its name, its address, and how to run a command in it. */
export interface Host {
  readonly ns: string;
  readonly address: string;
  /** The host name processes on it see (a UTS namespace of their own): `host1`, `host2`, … */
  readonly hostname: string;
  /** Prefix for a command run on this host: in its network namespace, under its own host name. */
  readonly launcher: string[];
  /** Takes the host's only link down (cut off from every other host) or up again. */
  link(up: boolean): void;
}

export interface Hosts {
  readonly hosts: Host[];
  /** The root namespace's own address on the hosts' network (where the test's client sits). */
  readonly clientAddress: string;
  destroy(): void;
}

const IP = findExecutable("ip", undefined, ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"]);

/** Why namespaces cannot be made here (not root, no iproute2, no permission), or null if they can. */
export function netnsUnavailable(): string | null {
  if (!IP) return "iproute2's `ip` is not installed (apt-get install iproute2)";
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  const probe = `bcprobe${randomBytes(3).toString("hex")}`;
  try {
    execFileSync(IP, ["netns", "add", probe], { stdio: "pipe" });
    execFileSync(IP, ["netns", "del", probe], { stdio: "pipe" });
    return null;
  } catch (err) {
    return `\`ip netns add\` failed: ${((err as { stderr?: Buffer }).stderr ?? "").toString().trim() || (err as Error).message}`;
  }
}

const ip = (...args: string[]): void => {
  execFileSync(IP!, args, { stdio: "pipe" });
};

/** A /24 in 10.0.0.0/8 that no interface or route of this machine uses. */
function freeSubnet(): string {
  const used = execFileSync(IP!, ["-4", "-o", "addr"], { encoding: "utf8" }) + execFileSync(IP!, ["-4", "route"], { encoding: "utf8" });
  for (;;) {
    const net = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]!}`;
    if (!used.includes(`${net}.`)) return net;
  }
}

/**
 * `n` hosts as network namespaces with unique names, each with one veth link into a bridge that
 * lives in a namespace of its own (so no host firewall sees the traffic), plus a link from the
 * root namespace so the test itself is a client on that network. Addresses come from a /24 of
 * 10.200–249.x.0 nothing on this machine uses. `destroy` removes everything it made.
 */
export function createHosts(n: number): Hosts {
  const id = randomBytes(2).toString("hex");
  const net = freeSubnet();
  const sw = `bc${id}sw`;
  const made: string[] = [];
  const rootLink = `bc${id}r`;
  const destroy = (): void => {
    for (const ns of made.reverse()) {
      try {
        ip("netns", "del", ns);
      } catch {
        // already gone
      }
    }
    try {
      ip("link", "del", rootLink);
    } catch {
      // went with the switch namespace
    }
  };
  try {
    ip("netns", "add", sw);
    made.push(sw);
    ip("-n", sw, "link", "add", "br0", "type", "bridge");
    ip("-n", sw, "link", "set", "br0", "up");
    const plug = (outer: string, peer: string): void => {
      ip("link", "add", outer, "type", "veth", "peer", "name", peer);
      ip("link", "set", peer, "netns", sw);
      ip("-n", sw, "link", "set", peer, "master", "br0");
      ip("-n", sw, "link", "set", peer, "up");
    };
    const hosts: Host[] = Array.from({ length: n }, (_, i) => {
      const ns = `bc${id}h${i + 1}`;
      const dev = `bc${id}h${i + 1}`;
      ip("netns", "add", ns);
      made.push(ns);
      plug(dev, `bc${id}p${i + 1}`);
      ip("link", "set", dev, "netns", ns);
      const address = `${net}.${i + 1}`;
      ip("-n", ns, "addr", "add", `${address}/24`, "dev", dev);
      ip("-n", ns, "link", "set", dev, "up");
      ip("-n", ns, "link", "set", "lo", "up");
      const hostname = `host${i + 1}`;
      const launcher = [IP!, "netns", "exec", ns, "unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname];
      return { ns, address, hostname, launcher, link: (up: boolean) => ip("-n", ns, "link", "set", dev, up ? "up" : "down") };
    });
    plug(rootLink, `bc${id}pr`);
    ip("addr", "add", `${net}.254/24`, "dev", rootLink);
    ip("link", "set", rootLink, "up");
    return { hosts, clientAddress: `${net}.254`, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}
