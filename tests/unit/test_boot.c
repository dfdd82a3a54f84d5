/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_boot.c - the boot file loader: every shipped config (under
 * $FG_CONFIG_EXAMPLES, the source tree's configs/) loads; defaults and
 * parsed values; a table of bad files, each with the exact lines and
 * messages it must produce, several errors reported together; the
 * file:line printer; SIGHUP's reload_diff.
 *
 * Bad files are written into a private temporary directory; "@DIR@" in a
 * fixture stands for that directory (token files live there).
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "fg_boot.h"

static char tmpdir[64];

/* ---------------------------------------------------------- helpers */

/* write_file - dir/name := text with @DIR@ replaced; returns the path
 * (static buffer, one at a time). */
static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	const char *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (p = text; *p; p++) {
		if (!strncmp(p, "@DIR@", 5)) {
			fputs(tmpdir, f);
			p += 4;
		} else {
			fputc(*p, f);
		}
	}
	assert_int_equal(fclose(f), 0);
	return path;
}

static struct fg_boot_config cfg, cfg2;
static struct fg_boot_errors errs;

/* load_text - write text as test.conf and load it. */
static int load_text(const char *text, struct fg_boot_config *out)
{
	return fg_boot_load(write_file("test.conf", text), out, &errs);
}

static void dump_errors(void)
{
	fg_boot_errors_print(&errs, stdout);
}

static const char *minimal =
	"node = { name = \"edge-1\"; };\n"
	"dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"]; };\n";

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/fg_test_boot.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_file("token", "s3cr3t-Token_1.~+/==\n");
	write_file("token_empty", "\n  \n");
	write_file("token_space", "two words\n");
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = {
		"test.conf", "inc.conf", "token", "token_empty",
		"token_space", "a.conf", "b.conf", "example.conf", NULL,
	};
	char path[256];
	unsigned i;

	for (i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return 0;
}

/* ---------------------------------------------------- good configs */

/*
 * load_example - load a shipped config as shipped, except that the token
 * file it names (/etc/floodgate/token: an example beyond loopback must
 * name one) is the test's: copied to example.conf with that path
 * replaced. Returns fg_boot_load's result.
 */
static int load_example(const char *path, struct fg_boot_config *out)
{
	static const char tok[] = "/etc/floodgate/token";
	char text[16384], copy[17000], mine[128];
	size_t n, o = 0, i;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	assert_true(n < sizeof(text) - 1);
	text[n] = '\0';
	snprintf(mine, sizeof(mine), "%s/token", tmpdir);
	for (i = 0; i < n && o + sizeof(mine) < sizeof(copy); ) {
		if (!strncmp(text + i, tok, sizeof(tok) - 1)) {
			o += (size_t)snprintf(copy + o, sizeof(copy) - o, "%s", mine);
			i += sizeof(tok) - 1;
		} else {
			copy[o++] = text[i++];
		}
	}
	assert_true(i == n);
	copy[o] = '\0';
	return fg_boot_load(write_file("example.conf", copy), out, &errs);
}

/* Every shipped config loads without an error. */
static void test_examples_load(void **state)
{
	const char *dir = getenv("FG_CONFIG_EXAMPLES");
	char path[1024], sub[512];
	unsigned n = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	if (!dir)
		fail_msg("FG_CONFIG_EXAMPLES is not set: the source tree's configs/ directory");
	snprintf(path, sizeof(path), "%s/floodgate.conf", dir);
	rc = fg_boot_load(path, &cfg, &errs);
	if (rc)
		dump_errors();
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.node.name, "edge-1");
	n++;

	snprintf(sub, sizeof(sub), "%s/examples", dir);
	d = opendir(sub);
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".conf"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sub, de->d_name);
		rc = load_example(path, &cfg);
		if (rc) {
			print_message("%s:\n", path);
			dump_errors();
		}
		assert_int_equal(rc, 0);
		n++;
	}
	closedir(d);
	/* floodgate.conf and the three examples at least. */
	assert_true(n >= 4);

	snprintf(path, sizeof(path), "%s/examples/standalone-xdp.conf", dir);
	assert_int_equal(load_example(path, &cfg), 0);
	assert_string_equal(cfg.api.token, "s3cr3t-Token_1.~+/==");
	assert_int_equal(cfg.dataplane.ninterfaces, 2);
	assert_string_equal(cfg.dataplane.interfaces[1], "eth1");
	assert_true(cfg.dataplane.tunnel_source.has4);
	assert_true(cfg.dataplane.tunnel_source.has6);
	assert_int_equal(cfg.dataplane.ct_established, 4194304);

	snprintf(path, sizeof(path), "%s/examples/cluster-etcd.conf", dir);
	assert_int_equal(load_example(path, &cfg), 0);
	assert_string_equal(cfg.node.group, "default");
	assert_int_equal(cfg.store.kind, FG_STORE_ETCD);
	assert_int_equal(cfg.store.nendpoints, 3);
	assert_int_equal(cfg.api.addr.family, AF_INET6);
	assert_int_equal(cfg.log.level, LOG_WARNING);

	snprintf(path, sizeof(path), "%s/examples/dpdk.conf", dir);
	assert_int_equal(fg_boot_load(path, &cfg, &errs), 0);
	assert_int_equal(cfg.dataplane.kind, FG_DATAPLANE_DPDK);
	assert_string_equal(cfg.dataplane.control_socket,
			    "/run/floodgate/dpdk.sock");
	assert_int_equal(cfg.dataplane.dpdk_mode, FG_BOOT_DPDK_START);
	assert_int_equal(cfg.dataplane.dpdk_nargs, 7);
}

/* kind "dpdk" needs nothing more: the socket defaults under
 * /run/floodgate/<node>/, the timeout to 5 s; both can be set. */
static void test_dpdk(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(load_text("node = { name = \"edge-7\"; };\n"
				   "dataplane = { kind = \"dpdk\"; };\n", &cfg), 0);
	assert_int_equal(cfg.dataplane.kind, FG_DATAPLANE_DPDK);
	assert_string_equal(cfg.dataplane.control_socket,
			    "/run/floodgate/edge-7/dpdk.sock");
	assert_int_equal(cfg.dataplane.control_timeout_ms, 5000);

	assert_int_equal(load_text("node = { name = \"edge-7\"; };\n"
				   "dataplane = { kind = \"dpdk\";\n"
				   "  control_socket = \"/run/fg/x.sock\";\n"
				   "  control_timeout_ms = 250; };\n", &cfg2), 0);
	assert_string_equal(cfg2.dataplane.control_socket, "/run/fg/x.sock");
	assert_int_equal(cfg2.dataplane.control_timeout_ms, 250);
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "needs a restart to change: "
			    "dataplane.control_socket, dataplane.control_timeout_ms");
	/* Nobody said who runs the process: someone else (attach). */
	assert_int_equal(cfg.dataplane.dpdk_mode, FG_BOOT_DPDK_ATTACH);
	assert_int_equal(cfg.dataplane.dpdk_nargs, 0);
	assert_int_equal(cfg.dataplane.dpdk_start_timeout_ms, 60000);
}

/* dataplane.dpdk: floodgated starts floodgate-dpdk with the arguments as
 * written, in order (empty exec and log_file: resolved at start). */
static void test_dpdk_start(void **state)
{
	static const char want[] = "-l\0" "0-1\0" "--no-huge\0" "--\0"
				   "--tunnel-src4\0" "198.18.0.1\0";
	char err[256];

	(void)state;
	assert_int_equal(load_text("node = { name = \"edge-7\"; };\n"
				   "dataplane = { kind = \"dpdk\";\n"
				   "  dpdk = { mode = \"start\";\n"
				   "    args = [\"-l\", \"0-1\", \"--no-huge\", \"--\",\n"
				   "            \"--tunnel-src4\", \"198.18.0.1\"]; }; };\n",
				   &cfg), 0);
	assert_int_equal(cfg.dataplane.dpdk_mode, FG_BOOT_DPDK_START);
	assert_int_equal(cfg.dataplane.dpdk_nargs, 6);
	assert_memory_equal(cfg.dataplane.dpdk_args, want, sizeof(want) - 1);
	assert_string_equal(cfg.dataplane.dpdk_exec, "");
	assert_string_equal(cfg.dataplane.dpdk_log_file, "");
	assert_int_equal(cfg.dataplane.dpdk_start_timeout_ms, 60000);

	/* Every setting; a lone string is no list; EAL options only. */
	assert_int_equal(load_text("node = { name = \"edge-7\"; };\n"
				   "dataplane = { kind = \"dpdk\";\n"
				   "  dpdk = { mode = \"start\"; exec = \"/bin/sh\";\n"
				   "    log_file = \"/var/log/fg/dpdk.log\";\n"
				   "    start_timeout_ms = 1000;\n"
				   "    args = (\"--vdev\", \"net_null0\"); }; };\n",
				   &cfg2), 0);
	assert_string_equal(cfg2.dataplane.dpdk_exec, "/bin/sh");
	assert_string_equal(cfg2.dataplane.dpdk_log_file, "/var/log/fg/dpdk.log");
	assert_int_equal(cfg2.dataplane.dpdk_start_timeout_ms, 1000);
	assert_int_equal(cfg2.dataplane.dpdk_nargs, 2);
	assert_memory_equal(cfg2.dataplane.dpdk_args, "--vdev\0net_null0\0", 17);
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "needs a restart to change: "
			    "dataplane.dpdk.args, dataplane.dpdk.exec, "
			    "dataplane.dpdk.log_file, dataplane.dpdk.start_timeout_ms");

	/* The mode alone. */
	assert_int_equal(load_text("node = { name = \"edge-7\"; };\n"
				   "dataplane = { kind = \"dpdk\";\n"
				   "  dpdk = { mode = \"attach\"; }; };\n", &cfg2), 0);
	assert_int_equal(cfg2.dataplane.dpdk_mode, FG_BOOT_DPDK_ATTACH);
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "needs a restart to change: "
			    "dataplane.dpdk.mode, dataplane.dpdk.args");
}

/* A minimal file takes every documented default. */
static void test_defaults(void **state)
{
	char a[INET6_ADDRSTRLEN];

	assert_int_equal(load_text(minimal, &cfg), 0);
	assert_string_equal(cfg.node.name, "edge-1");
	assert_string_equal(cfg.node.group, "default");
	assert_string_equal(cfg.api.listen, "127.0.0.1:7380");
	assert_int_equal(cfg.api.addr.family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, &cfg.api.addr.a4, a, sizeof(a)),
			    "127.0.0.1");
	assert_int_equal(cfg.api.port, 7380);
	assert_string_equal(cfg.api.token_file, "");
	assert_string_equal(cfg.api.token, "");
	assert_int_equal(cfg.store.kind, FG_STORE_EMBEDDED);
	assert_string_equal(cfg.store.data_dir, "/var/lib/floodgate");
	assert_int_equal(cfg.dataplane.kind, FG_DATAPLANE_XDP);
	assert_int_equal(cfg.dataplane.mode, FG_BOOT_XDP_NATIVE);
	assert_false(cfg.dataplane.tunnel_source.has4);
	assert_false(cfg.dataplane.snat.has6);
	assert_int_equal(cfg.dataplane.ct_established, 2097152);
	assert_int_equal(cfg.dataplane.ct_syn, 262144);
	assert_int_equal(cfg.dataplane.ct_nat, 1048576);
	assert_int_equal(cfg.dataplane.tcp_timeout_s, 300);
	assert_int_equal(cfg.dataplane.udp_timeout_s, 30);
	assert_int_equal(cfg.dataplane.ring_slots, 4194304);
	assert_int_equal(cfg.dataplane.limit_buckets, 1048576);
	assert_int_equal(cfg.dataplane.gue_port, 6080);
	assert_int_equal(cfg.log.level, LOG_INFO);
}

/* Values of every shape: v6 listen, token trimmed, one address as a
 * string, 64-bit integer literals, lists in () as well as []. */
static void test_values(void **state)
{
	char a[INET6_ADDRSTRLEN];

	assert_int_equal(load_text(
		"node = { name = \"n0\"; group = \"default\"; };\n"
		"api = { listen = \"[::1]:8443\"; token_file = \"@DIR@/token\"; };\n"
		"dataplane = { kind = \"xdp\"; interfaces = (\"eth0\", \"veth-a.10\");\n"
		"  mode = \"generic\"; tunnel_source = \"2001:db8::1\";\n"
		"  snat_addresses = [\"198.19.255.7\"]; ring_slots = 65537L;\n"
		"  conntrack = { udp_timeout_s = 1; }; };\n"
		"log = { level = \"debug\"; };\n", &cfg), 0);
	assert_string_equal(cfg.node.group, "default");
	assert_false(cfg.api.allow_no_token);
	assert_int_equal(cfg.api.addr.family, AF_INET6);
	assert_int_equal(cfg.api.port, 8443);
	assert_string_equal(cfg.api.token, "s3cr3t-Token_1.~+/==");
	assert_int_equal(cfg.dataplane.ninterfaces, 2);
	assert_string_equal(cfg.dataplane.interfaces[1], "veth-a.10");
	assert_int_equal(cfg.dataplane.mode, FG_BOOT_XDP_GENERIC);
	assert_false(cfg.dataplane.tunnel_source.has4);
	assert_true(cfg.dataplane.tunnel_source.has6);
	assert_string_equal(inet_ntop(AF_INET6, &cfg.dataplane.tunnel_source.a6,
				      a, sizeof(a)), "2001:db8::1");
	assert_true(cfg.dataplane.snat.has4);
	assert_string_equal(inet_ntop(AF_INET, &cfg.dataplane.snat.a4, a,
				      sizeof(a)), "198.19.255.7");
	assert_int_equal(cfg.dataplane.ring_slots, 65537);
	assert_int_equal(cfg.dataplane.udp_timeout_s, 1);
	assert_int_equal(cfg.dataplane.tcp_timeout_s, 300);
	assert_int_equal(cfg.log.level, LOG_DEBUG);
	assert_string_equal(fg_boot_log_level_name(cfg.log.level), "debug");
	assert_string_equal(fg_boot_log_level_name(LOG_WARNING), "warn");
}

/* ----------------------------------------------------- bad configs */

struct want {
	unsigned line;
	const char *msg;      /* the message starts with this */
};

struct bad_case {
	const char *desc;
	const char *text;
	int rc;
	struct want want[10]; /* in order; ends at msg == NULL */
};

#define NODE "node = { name = \"a\"; };\n"
#define XDP "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"]; };\n"

static const struct bad_case bad_cases[] = {
	{ "syntax error", NODE "api = { listen = ; };\n" XDP, -EINVAL,
	  { { 2, "syntax error" } } },
	{ "duplicate setting", NODE XDP "\nlog = { level = \"info\"; level = \"warn\"; };\n",
	  -EINVAL, { { 4, "duplicate setting name" } } },
	{ "unknown top-level setting", NODE XDP "loglevel = \"info\";\n", -EINVAL,
	  { { 3, "loglevel: unknown setting" } } },
	{ "unknown key in a group", NODE "api = {\n  lisen = \"127.0.0.1:1\";\n};\n" XDP,
	  -EINVAL, { { 3, "api.lisen: unknown setting" } } },
	{ "unknown key in a nested group",
	  NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  "  conntrack = { established = 2048; timeout = 5; }; };\n", -EINVAL,
	  { { 3, "dataplane.conntrack.timeout: unknown setting" } } },
	{ "key of the other kind", NODE XDP "store = { kind = \"etcd\"; endpoints = [\"http://e:2379\"];\n"
	  "  data_dir = \"/x\"; };\n", -EINVAL,
	  { { 4, "store.data_dir: not valid with kind \"etcd\"" } } },
	{ "integer as a string", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  " ring_slots = \"1024\"; };\n",
	  -EINVAL, { { 3, "dataplane.ring_slots: must be an integer, not a string" } } },
	{ "string as an integer", NODE XDP "log = { level = 3; };\n", -EINVAL,
	  { { 3, "log.level: must be a string, not an integer" } } },
	{ "float as an integer", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  "  gue_port = 6080.0; };\n", -EINVAL,
	  { { 3, "dataplane.gue_port: must be an integer, not a float" } } },
	{ "string as a list", NODE "dataplane = { kind = \"xdp\";\n interfaces = \"eth0\"; };\n",
	  -EINVAL, { { 3, "dataplane.interfaces: must be a list" } } },
	{ "scalar as a group", "node = \"a\";\n" XDP, -EINVAL,
	  { { 1, "node: must be a group" } } },
	{ "bad element type", NODE "dataplane = { kind = \"xdp\"; interfaces = (\"eth0\",\n 7); };\n",
	  -EINVAL, { { 3, "dataplane.interfaces[1]: must be a string, not an integer" } } },
	{ "bad address", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  "  tunnel_source = \"198.19.255.256\"; };\n", -EINVAL,
	  { { 3, "dataplane.tunnel_source: \"198.19.255.256\" is not an IPv4 or IPv6 address" } } },
	{ "multicast and unspecified", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  "  snat_addresses = [\"ff02::1\",\n \"0.0.0.0\"]; };\n", -EINVAL,
	  { { 3, "dataplane.snat_addresses[0]: ff02::1 is not a unicast address" },
	    { 4, "dataplane.snat_addresses[1]: 0.0.0.0 is not a unicast address" } } },
	{ "two of one family", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  "  tunnel_source = [\"198.19.255.1\", \"2001:db8::1\", \"198.19.255.2\"]; };\n", -EINVAL,
	  { { 3, "dataplane.tunnel_source[2]: a second IPv4 address" } } },
	{ "hostname in listen", NODE XDP "api = { listen = \"localhost:7380\"; };\n", -EINVAL,
	  { { 3, "api.listen: \"localhost:7380\" has no IP address literal" } } },
	{ "v6 listen without brackets", NODE XDP "api = { listen = \"::1:7380\"; };\n", -EINVAL,
	  { { 3, "api.listen: \"::1:7380\" needs brackets" } } },
	{ "bad endpoint URL", NODE XDP "store = { kind = \"etcd\";\n"
	  "  endpoints = [\"http://a:2379\", \"etcd:2379\"]; };\n", -EINVAL,
	  { { 4, "store.endpoints[1]: \"etcd:2379\" is not http://HOST[:PORT]" } } },
	{ "bad name", "node = { name = \"Edge_1\"; };\n" XDP, -EINVAL,
	  { { 1, "node.name: \"Edge_1\" is not a valid name" } } },
	{ "name too long", "node = { name = \"a\";\n group = "
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; };\n" XDP,
	  -EINVAL, { { 2, "node.group: \"aaaa" } } },
	{ "bad interface name", NODE "dataplane = { kind = \"xdp\";\n"
	  "  interfaces = [\"eth0\", \"a-very-long-name0\", \"eth0\"]; };\n", -EINVAL,
	  { { 3, "dataplane.interfaces[1]: \"a-very-long-name0\" is not an interface name" },
	    { 3, "dataplane.interfaces[2]: \"eth0\" is listed twice" } } },
	{ "the embedded store's TCP ports, removed", NODE XDP "store = {\n client_port = 2389;\n peer_port = 2390; };\n",
	  -EINVAL, { { 4, "store.client_port: removed: the embedded store listens only on Unix sockets" },
		     { 5, "store.peer_port: removed: the embedded store listens only on Unix sockets" } } },
	{ "listen port out of range", NODE XDP "api = { listen = \"127.0.0.1:65536\"; };\n",
	  -EINVAL, { { 3, "api.listen: \"127.0.0.1:65536\" has a port outside 1..65535" } } },
	{ "table size out of range", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  " ring_slots = 1000; };\n", -EINVAL,
	  { { 3, "dataplane.ring_slots: 1000 is out of range 65537..134217728" } } },
	{ "bad enum", NODE "dataplane = { kind = \"ebpf\"; };\n", -EINVAL,
	  { { 2, "dataplane.kind: \"ebpf\" is not one of \"xdp\" or \"dpdk\"" } } },
	{ "missing node", XDP, -EINVAL, { { 0, "node: required" } } },
	{ "missing name", "node = {\n group = \"default\"; };\n" XDP, -EINVAL,
	  { { 1, "node.name: required" } } },
	{ "missing dataplane", NODE, -EINVAL, { { 0, "dataplane: required" } } },
	{ "missing kind", NODE "dataplane = { interfaces = [\"eth0\"]; };\n", -EINVAL,
	  { { 2, "dataplane.kind: required" } } },
	{ "missing interfaces", NODE "dataplane = { kind = \"xdp\"; };\n", -EINVAL,
	  { { 2, "dataplane.interfaces: required" } } },
	{ "control timeout out of range", NODE "dataplane = { kind = \"dpdk\";\n"
	  "  control_timeout_ms = 99; };\n", -EINVAL,
	  { { 3, "dataplane.control_timeout_ms: 99 is out of range 100..600000" } } },
	{ "relative control socket", NODE "dataplane = { kind = \"dpdk\";\n"
	  "  control_socket = \"run/dpdk.sock\"; };\n", -EINVAL,
	  { { 3, "dataplane.control_socket: " } } },
	{ "dpdk setting under xdp", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  "  control_timeout_ms = 1000; };\n", -EINVAL,
	  { { 3, "dataplane.control_timeout_ms: not valid with kind \"xdp\"" } } },
	{ "dpdk start without args", NODE "dataplane = { kind = \"dpdk\";\n"
	  "  dpdk = { mode = \"start\"; }; };\n", -EINVAL,
	  { { 3, "dataplane.dpdk.args: required with mode \"start\": the EAL options" } } },
	{ "dpdk start settings with attach", NODE "dataplane = { kind = \"dpdk\";\n"
	  "  dpdk = {\n args = [\"-l\"];\n log_file = \"/x.log\"; }; };\n", -EINVAL,
	  { { 4, "dataplane.dpdk.args: not valid with mode \"attach\"" },
	    { 5, "dataplane.dpdk.log_file: not valid with mode \"attach\"" } } },
	{ "dpdk bad mode", NODE "dataplane = { kind = \"dpdk\";\n"
	  "  dpdk = { mode = \"spawn\"; }; };\n", -EINVAL,
	  { { 3, "dataplane.dpdk.mode: \"spawn\" is not one of \"attach\" or \"start\"" } } },
	{ "dpdk group under xdp", NODE "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
	  "  dpdk = { mode = \"start\"; }; };\n", -EINVAL,
	  { { 3, "dataplane.dpdk: not valid with kind \"xdp\"" } } },
	{ "dpdk bad args", NODE "dataplane = { kind = \"dpdk\"; dpdk = { mode = \"start\";\n"
	  "  args = [\"--control\", \"/a\", \"--\",\n \"\",\n \"--control\", \"/b\"]; }; };\n", -EINVAL,
	  { { 4, "dataplane.dpdk.args[3]: an empty argument" },
	    { 5, "dataplane.dpdk.args[4]: floodgated gives floodgate-dpdk --control itself" } } },
	{ "dpdk args not strings", NODE "dataplane = { kind = \"dpdk\"; dpdk = { mode = \"start\";\n"
	  "  args = (\"-l\", 1); }; };\n", -EINVAL,
	  { { 3, "dataplane.dpdk.args[1]: must be a string, not an integer" } } },
	{ "dpdk empty args", NODE "dataplane = { kind = \"dpdk\"; dpdk = { mode = \"start\";\n"
	  "  args = []; }; };\n", -EINVAL,
	  { { 3, "dataplane.dpdk.args: must hold 1..128 arguments, not 0" } } },
	{ "dpdk exec missing", NODE "dataplane = { kind = \"dpdk\";\n"
	  " dpdk = { mode = \"start\"; args = [\"-l\"];\n exec = \"@DIR@/nope\"; }; };\n"
	  "# second\n", -EINVAL,
	  { { 4, "dataplane.dpdk.exec: cannot run " } } },
	{ "dpdk exec not executable", NODE "dataplane = { kind = \"dpdk\";\n"
	  " dpdk = { mode = \"start\"; args = [\"-l\"];\n exec = \"@DIR@/token\";\n"
	  " log_file = \"dpdk.log\";\n start_timeout_ms = 999; }; };\n", -EINVAL,
	  { { 4, "dataplane.dpdk.exec: cannot run " },
	    { 5, "dataplane.dpdk.log_file: \"dpdk.log\" must be an absolute path" },
	    { 6, "dataplane.dpdk.start_timeout_ms: 999 is out of range 1000..600000" } } },
	{ "missing endpoints", NODE XDP "store = { kind = \"etcd\"; };\n", -EINVAL,
	  { { 3, "store.endpoints: required" } } },
	{ "token_file missing", NODE XDP "api = { token_file = \"@DIR@/nope\"; };\n", -EINVAL,
	  { { 3, "api.token_file: cannot read " } } },
	{ "token_file empty", NODE XDP "api = { token_file = \"@DIR@/token_empty\"; };\n",
	  -EINVAL, { { 3, "api.token_file: " } } },
	{ "token with a space", NODE XDP "api = { token_file = \"@DIR@/token_space\"; };\n",
	  -EINVAL, { { 3, "api.token_file: " } } },
	{ "token_file a directory", NODE XDP "api = { token_file = \"@DIR@\"; };\n", -EINVAL,
	  { { 3, "api.token_file: cannot read " } } },
	{ "token_file relative", NODE XDP "api = { token_file = \"token\"; };\n", -EINVAL,
	  { { 3, "api.token_file: \"token\" must be an absolute path" } } },
	{ "cert without key", NODE XDP "store = { kind = \"etcd\"; endpoints = [\"https://e\"];\n"
	  " cert_file = \"@DIR@/token\"; };\n", -EINVAL,
	  { { 4, "store.cert_file: needs store.key_file too" } } },
	{ "a node group other than default", "node = { name = \"a\";\n group = \"eu-west\"; };\n" XDP,
	  -EINVAL, { { 2, "node.group: \"eu-west\": node groups are not supported yet; only \"default\"" } } },
	{ "API everywhere without a token", NODE XDP "api = {\n listen = \"0.0.0.0:7380\"; };\n", -EINVAL,
	  { { 4, "api.listen: 0.0.0.0:7380 listens beyond loopback without a token: set api.token_file, or api.allow_no_token = true" } } },
	{ "API on a v6 address without a token", NODE XDP "api = { listen = \"[2001:db8::1]:7380\";\n"
	  " allow_no_token = false; };\n", -EINVAL,
	  { { 3, "api.listen: [2001:db8::1]:7380 listens beyond loopback without a token" } } },
	{ "allow_no_token not a boolean", NODE XDP "api = { listen = \"[::]:7380\";\n"
	  " allow_no_token = \"yes\"; };\n", -EINVAL,
	  { { 3, "api.listen: [::]:7380 listens beyond loopback without a token" },
	    { 4, "api.allow_no_token: must be true or false, not a string" } } },
	{ "many errors, all reported, in line order",
	  "node = { name = \"Bad\"; };\n"                                 /* 1 */
	  "api = { listen = \"1.2.3.4\"; token_file = \"@DIR@/nope\"; };\n" /* 2 */
	  "store = { kind = \"embedded\"; data_dir = \"rel\"; };\n"     /* 3 */
	  "dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"      /* 4 */
	  "  tunnel_source = \"nope\"; mode = 1; };\n"                    /* 5 */
	  "log = { level = \"verbose\"; colour = true; };\n"              /* 6 */
	  "extra = 1;\n",                                                 /* 7 */
	  -EINVAL,
	  { { 1, "node.name: \"Bad\" is not a valid name" },
	    { 2, "api.listen: \"1.2.3.4\" must be ADDR:PORT" },
	    { 2, "api.token_file: cannot read " },
	    { 3, "store.data_dir: \"rel\" must be an absolute path" },
	    { 5, "dataplane.mode: must be a string, not an integer" },
	    { 5, "dataplane.tunnel_source: \"nope\" is not" },
	    { 6, "log.colour: unknown setting" },
	    { 6, "log.level: \"verbose\" is not one of" },
	    { 7, "extra: unknown setting" } } },
};

/* Each bad file: exactly the listed errors, at the listed lines, in order
 * (the file's own name on each), and the listed return code. */
static void test_bad_files(void **state)
{
	size_t i, k, nwant;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		const char *path;
		bool ok;
		int rc;

		path = write_file("test.conf", bc->text);
		rc = fg_boot_load(path, &cfg, &errs);
		for (nwant = 0; nwant < 10 && bc->want[nwant].msg; nwant++)
			;
		ok = errs.n == nwant;
		for (k = 0; ok && k < nwant; k++)
			ok = errs.e[k].line == bc->want[k].line &&
			     !strncmp(errs.e[k].message, bc->want[k].msg,
				      strlen(bc->want[k].msg)) &&
			     !strcmp(errs.e[k].file, path);
		if (!ok || rc != bc->rc) {
			print_message("case \"%s\": rc %d, errors:\n", bc->desc,
				      rc);
			dump_errors();
			fail_msg("case \"%s\" does not report what it should",
				 bc->desc);
		}
	}
}

/* An unreadable file: its errno, and one line-less error. */
static void test_unreadable(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	assert_int_equal(fg_boot_load(path, &cfg, &errs), -ENOENT);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.e[0].line, 0);
	assert_string_equal(errs.e[0].message,
			    "cannot read: No such file or directory");
	assert_int_equal(fg_boot_load(tmpdir, &cfg, &errs), -EINVAL);
	assert_string_equal(errs.e[0].message,
			    "cannot read: not a regular file");
	/* errs is optional. */
	assert_int_equal(fg_boot_load(path, &cfg, NULL), -ENOENT);
	assert_int_equal(load_text("node = {", &cfg), -EINVAL);
	assert_int_equal(fg_boot_load(write_file("test.conf", "node = 1;\n"),
					&cfg, NULL), -EINVAL);
}

/* An error in an @include'd file names that file and its line. */
static void test_include(void **state)
{
	char inc[256];
	const char *path;

	write_file("inc.conf", "log = {\n level = \"chatty\"; };\n");
	snprintf(inc, sizeof(inc), "%s/inc.conf", tmpdir);
	path = write_file("test.conf", NODE XDP "@include \"inc.conf\"\n");
	assert_int_equal(fg_boot_load(path, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.e[0].file, inc);
	assert_int_equal(errs.e[0].line, 2);
}

/* More errors than kept: the rest counted, and the printer says so. */
static void test_error_overflow_and_print(void **state)
{
	char text[4096], *buf = NULL;
	size_t len = 0, off;
	const char *path;
	unsigned i, lines;
	FILE *f;

	off = (size_t)snprintf(text, sizeof(text), "%s", NODE XDP);
	for (i = 0; i < FG_BOOT_ERRORS_MAX + 8; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"junk%u = 1;\n", i);
	path = write_file("test.conf", text);
	assert_int_equal(fg_boot_load(path, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, FG_BOOT_ERRORS_MAX);
	assert_int_equal(errs.dropped, 8);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	lines = fg_boot_errors_print(&errs, f);
	fclose(f);
	assert_int_equal(lines, FG_BOOT_ERRORS_MAX + 1);
	{
		char first[512], last[512];

		snprintf(first, sizeof(first), "%s:3: junk0: unknown setting\n",
			 path);
		snprintf(last, sizeof(last), "%s: 8 more errors\n", path);
		assert_memory_equal(buf, first, strlen(first));
		assert_string_equal(buf + strlen(buf) - strlen(last), last);
	}
	free(buf);

	/* A line-less error prints as "file: message". */
	path = write_file("test.conf", XDP);
	assert_int_equal(fg_boot_load(path, &cfg, &errs), -EINVAL);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fg_boot_errors_print(&errs, f), 1);
	fclose(f);
	{
		char want[512];

		snprintf(want, sizeof(want),
			 "%s: node: required: node = { name = \"...\"; };\n",
			 path);
		assert_string_equal(buf, want);
	}
	free(buf);
}

/* The API beyond loopback: with a token, or with allow_no_token; on
 * loopback neither is needed. */
static void test_api_open(void **state)
{
	assert_int_equal(load_text(NODE XDP "api = { listen = \"0.0.0.0:7380\";\n"
				   " token_file = \"@DIR@/token\"; };\n", &cfg), 0);
	assert_false(fg_boot_api_loopback(&cfg));
	assert_int_equal(load_text(NODE XDP "api = { listen = \"[::]:7380\";\n"
				   " allow_no_token = true; };\n", &cfg), 0);
	assert_true(cfg.api.allow_no_token);
	assert_false(fg_boot_api_loopback(&cfg));
	assert_int_equal(load_text(NODE XDP "api = { listen = \"[::1]:7380\"; };\n",
				   &cfg), 0);
	assert_true(fg_boot_api_loopback(&cfg));
	assert_int_equal(load_text(NODE XDP "api = { listen = \"127.0.0.9:7380\"; };\n",
				   &cfg), 0);
	assert_true(fg_boot_api_loopback(&cfg));
	assert_int_equal(load_text("node = { name = \"a\"; group = \"default\"; };\n" XDP,
				   &cfg), 0);
	assert_string_equal(cfg.node.group, "default");
	/* A reload that changes it needs a restart. */
	assert_int_equal(load_text(NODE XDP "api = { listen = \"[::]:7380\";\n"
				   " allow_no_token = true; };\n", &cfg), 0);
	cfg2 = cfg;
	cfg2.api.allow_no_token = false;
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, NULL, 0), -EBUSY);
}

/* lo_up - bring lo up in this network namespace. Returns 0 or -errno. */
static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!rc && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* bind_listen - bind api.listen of text's config as the daemon does, from
 * fg_boot_api_sockaddr. Returns 0 or -errno. */
static int bind_listen(const char *listen_text)
{
	struct sockaddr_storage ss;
	char text[256];
	socklen_t len;
	int fd, rc = 0;

	snprintf(text, sizeof(text), NODE XDP "api = { listen = \"%s\"; };\n",
		 listen_text);
	if (load_text(text, &cfg))
		return -EINVAL;
	if (fg_boot_api_sockaddr(&cfg, &ss, &len))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1))
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * The API address as a socket address, and bound in a network namespace
 * where only lo is up and has addresses (a box at boot, before its
 * network): libevent's evhttp_bind_socket refuses 127.0.0.1 there
 * (evutil_getaddrinfo's AI_ADDRCONFIG finds no route, so "no IPv4"); the
 * parsed address binds. The
 * namespace part runs in a child (unshare changes the whole process) and
 * skips without the privilege to make one.
 */
static void test_api_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int status;
	pid_t pid;

	assert_int_equal(load_text(NODE XDP "api = { listen = \"127.0.0.1:7391\"; };\n",
				   &cfg), 0);
	assert_int_equal(fg_boot_api_sockaddr(&cfg, &ss, &len), 0);
	assert_int_equal(len, sizeof(*sin));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 7391);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(load_text(NODE XDP "api = { listen = \"[::1]:7392\"; };\n",
				   &cfg), 0);
	assert_int_equal(fg_boot_api_sockaddr(&cfg, &ss, &len), 0);
	assert_int_equal(len, sizeof(*sin6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 7392);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	assert_int_equal(fg_boot_api_sockaddr(NULL, &ss, &len), -EINVAL);

	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) &&
		    unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(77);
		if (lo_up())
			_exit(3);
		if (bind_listen("127.0.0.1:7391"))
			_exit(4);
		/* ::1 exists once lo is up, unless IPv6 is off here. */
		if (bind_listen("[::1]:7392") && errno != EAFNOSUPPORT)
			_exit(5);
		fflush(stdout);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("no network namespace here (unshare: needs root or user namespaces): bind part skipped\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---------------------------------------------------------- reload */

static void test_reload_diff(void **state)
{
	char err[256];
	int rc;

	assert_int_equal(load_text(
		"node = { name = \"a\"; };\n"
		"api = { token_file = \"@DIR@/token\"; };\n"
		"dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"]; };\n"
		"log = { level = \"info\"; };\n", &cfg), 0);
	cfg2 = cfg;
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, err, sizeof(err)), 0);

	/* Live: the level, and the token file's content. */
	write_file("token", "rotated\n");
	assert_int_equal(load_text(
		"node = { name = \"a\"; };\n"
		"api = { token_file = \"@DIR@/token\"; };\n"
		"dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"]; };\n"
		"log = { level = \"debug\"; };\n", &cfg2), 0);
	assert_string_equal(cfg2.api.token, "rotated");
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, err, sizeof(err)),
			 FG_BOOT_RELOAD_LOG_LEVEL | FG_BOOT_RELOAD_TOKEN);
	write_file("token", "s3cr3t-Token_1.~+/==\n");

	/* Not live: interfaces (order matters: the first one lends its
	 * addresses), and every setting that changed is named. */
	assert_int_equal(load_text(
		"node = { name = \"a\"; };\n"
		"api = { token_file = \"@DIR@/token\"; };\n"
		"dataplane = { kind = \"xdp\"; interfaces = [\"eth1\"]; };\n"
		"log = { level = \"debug\"; };\n", &cfg2), 0);
	rc = fg_boot_reload_diff(&cfg, &cfg2, err, sizeof(err));
	assert_int_equal(rc, -EBUSY);
	assert_string_equal(err,
			    "needs a restart to change: dataplane.interfaces");

	assert_int_equal(load_text(
		"node = { name = \"a\"; };\n"
		"dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"];\n"
		"  conntrack = { tcp_timeout_s = 60; }; };\n"
		"store = { data_dir = \"/var/lib/floodgate2\"; };\n", &cfg2), 0);
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, err, sizeof(err)),
			 -EBUSY);
	assert_string_equal(err,
			    "needs a restart to change: api.token_file, store.data_dir, dataplane.conntrack.tcp_timeout_s");

	assert_int_equal(load_text(
		"node = { name = \"a\"; };\n"
		"api = { token_file = \"@DIR@/token\"; };\n"
		"dataplane = { kind = \"dpdk\"; control_socket = \"/run/x.sock\"; };\n",
		&cfg2), 0);
	assert_int_equal(fg_boot_reload_diff(&cfg, &cfg2, NULL, 0), -EBUSY);
	assert_int_equal(fg_boot_reload_diff(NULL, &cfg2, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_load),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dpdk),
		cmocka_unit_test(test_dpdk_start),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_error_overflow_and_print),
		cmocka_unit_test(test_reload_diff),
		cmocka_unit_test(test_api_open),
		cmocka_unit_test(test_api_sockaddr),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
