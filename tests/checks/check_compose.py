#!/usr/bin/python3
"""Static check of docker-compose.yml and Dockerfile against the rest of the repository.

The build machines have no Docker engine, so nothing here builds or runs a container:
the check reads docker-compose.yml, Dockerfile, the Makefile, README.md,
config/newswatch.conf, lib/topics.c and the programs' option tables, and checks that
they agree (ports, listeners, broker addresses, topic names, paths in the image).

Prints one "ok: ..." line per passed check and one "FAIL: ..." line per failed one,
then a summary; exits 1 when any check failed. Usage:

    /usr/bin/python3 tests/checks/check_compose.py [--repo DIR]

Run by tests/checks/compose.sh (and so by `make test`). Needs PyYAML (Debian:
python3-yaml, installed by `make deps`).
"""

import argparse
import json
import os
import re
import shlex
import sys

try:
    import yaml
except ImportError:
    print(
        "FAIL: the Python module 'yaml' is missing for %s: install python3-yaml "
        "(`make deps` does)" % sys.executable,
        file=sys.stderr,
    )
    sys.exit(1)

# What the stack must look like (BRIEF.md, docs/docker.md).
SERVICES = ("kafka", "topics", "consumer", "producer")
NEWSWATCH_SERVICES = ("topics", "consumer", "producer")
KAFKA_IMAGE = "apache/kafka:3.9.1"
NEWSWATCH_IMAGE = "newswatch:local"
TOPIC_KEYS = ("raw", "enriched", "matches", "alerts", "alert-state", "dlq", "feed-state")
TOPIC_DEFAULTS = {
    "raw": "news.raw",
    "enriched": "news.enriched",
    "matches": "news.matches",
    "alerts": "news.alerts",
    "alert-state": "news.alert-state",
    "dlq": "news.dlq",
    "feed-state": "news.feed-state",
}
CONFIG_DIR_IN_IMAGE = "/usr/local/share/newswatch/config/"
SEEDS_IN_IMAGE = "/usr/local/share/newswatch/samples/seeds"
SEEDS_IN_REPO = "samples/seeds"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# The programs and the C files holding their getopt tables.
PROGRAM_SOURCES = {
    "newswatch-consumer": "consumer/options.c",
    "newswatch-producer": "producer/options.c",
}


class Fail(Exception):
    """A check failed; the message says what and where."""


class Repo:
    """The files under check, read on first use; a missing file is a clear failure."""

    def __init__(self, root):
        self.root = root
        self._text = {}
        self._compose = None
        self._dockerfile = None

    def path(self, rel):
        return os.path.join(self.root, rel)

    def text(self, rel):
        if rel not in self._text:
            p = self.path(rel)
            if not os.path.isfile(p):
                raise Fail("%s: the file is missing (looked for %s)" % (rel, p))
            with open(p, encoding="utf-8") as f:
                self._text[rel] = f.read()
        return self._text[rel]

    def compose(self):
        if self._compose is None:
            try:
                doc = yaml.safe_load(self.text("docker-compose.yml"))
            except yaml.YAMLError as e:
                raise Fail("docker-compose.yml: not valid YAML: %s" % e)
            if not isinstance(doc, dict):
                raise Fail("docker-compose.yml: the top level is not a mapping")
            if not isinstance(doc.get("services"), dict):
                raise Fail("docker-compose.yml: no 'services' mapping")
            self._compose = doc
        return self._compose

    def service(self, name):
        svc = self.compose()["services"].get(name)
        if not isinstance(svc, dict):
            raise Fail("docker-compose.yml: service '%s' is missing" % name)
        return svc

    def dockerfile(self):
        if self._dockerfile is None:
            self._dockerfile = parse_dockerfile(self.text("Dockerfile"))
        return self._dockerfile


# ---------------------------------------------------------------- parsing helpers


def environment(repo, name):
    """A service's environment as a dict of strings (map or list form)."""
    env = repo.service(name).get("environment", {})
    out = {}
    if isinstance(env, dict):
        for k, v in env.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            out[str(k)] = "" if v is None else str(v)
    elif isinstance(env, list):
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
    else:
        raise Fail("service '%s': 'environment' is neither a mapping nor a list" % name)
    return out


def env_value(repo, name, key):
    env = environment(repo, name)
    if key not in env or env[key] == "":
        raise Fail("service '%s': environment variable %s is not set" % (name, key))
    return env[key]


LISTENER_RE = re.compile(r"^([A-Za-z0-9_]+)://(\[[^\]]*\]|[^:/]*):(\d+)$")


def parse_listeners(value, what):
    """'NAME://host:port,...' -> list of (name, host, port)."""
    out = []
    for item in value.split(","):
        item = item.strip()
        m = LISTENER_RE.match(item)
        if not m:
            raise Fail("%s: '%s' is not NAME://host:port" % (what, item))
        out.append((m.group(1), m.group(2).strip("[]"), int(m.group(3))))
    return out


def parse_port(entry):
    """A compose port entry -> (host_ip, published, target); None for unset parts."""
    if isinstance(entry, dict):
        pub = entry.get("published")
        return (
            entry.get("host_ip"),
            int(pub) if pub is not None and str(pub).isdigit() else pub,
            int(entry["target"]) if "target" in entry else None,
        )
    s = str(entry).split("/")[0]
    host_ip = None
    if s.startswith("["):  # [::1]:9092:9092
        end = s.index("]")
        host_ip, s = s[1:end], s[end + 2 :]
    parts = s.split(":")
    if len(parts) == 3:
        host_ip, parts = parts[0], parts[1:]
    if len(parts) == 2:
        pub, tgt = parts
    else:
        pub, tgt = None, parts[0]
    conv = lambda x: int(x) if x is not None and x.isdigit() else x
    return (host_ip or None, conv(pub), conv(tgt))


def makefile_default(repo, var):
    m = re.search(r"^\s*%s\s*\?=\s*(\S+)\s*$" % re.escape(var), repo.text("Makefile"), re.M)
    if not m:
        raise Fail("Makefile: no '%s ?= ...' default" % var)
    return m.group(1)


def c_string_array(text, name, path):
    """The string literals of `... name[...] = { "a", "b", ... };` in a C file."""
    m = re.search(r"\b%s\s*\[[^\]]*\]\s*=\s*\{(.*?)\};" % re.escape(name), text, re.S)
    if not m:
        raise Fail("%s: no array '%s[...] = { ... };'" % (path, name))
    return re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))


def program_options(repo, program):
    """The program's getopt table: (short options with an argument, short flags,
    long options with an argument, long flags), read from its C source."""
    src = PROGRAM_SOURCES.get(program)
    if src is None:
        raise Fail("unknown program '%s' (known: %s)" % (program, ", ".join(PROGRAM_SOURCES)))
    text = repo.text(src)
    m = re.search(r'getopt_long\s*\([^;]*?"([^"]*)"', text, re.S)
    if not m:
        raise Fail("%s: no getopt_long(...) option string" % src)
    optstring = m.group(1).lstrip(":+-")
    short_arg, short_flag = set(), set()
    for i, ch in enumerate(optstring):
        if ch == ":":
            continue
        (short_arg if optstring[i + 1 : i + 2] == ":" else short_flag).add("-" + ch)
    long_arg, long_flag = set(), set()
    for name, kind in re.findall(r'\{\s*"([A-Za-z0-9-]+)"\s*,\s*(\w+)', text):
        (long_flag if kind == "no_argument" else long_arg).add("--" + name)
    if not long_arg and not long_flag:
        raise Fail("%s: no long options table" % src)
    return short_arg, short_flag, long_arg, long_flag


def service_command(repo, name):
    """(program, {option: [values]}, [operands]) of a service's command, parsed with
    the program's own option table so that a typo is an error here, not at run time."""
    svc = repo.service(name)
    if "entrypoint" in svc:
        raise Fail("service '%s' sets an entrypoint; the image has none and the "
                   "command names the program" % name)
    cmd = svc.get("command")
    if isinstance(cmd, str):
        argv = shlex.split(cmd)
    elif isinstance(cmd, list) and cmd:
        argv = [str(a) for a in cmd]
    else:
        raise Fail("service '%s': no command" % name)
    program = argv[0]
    short_arg, short_flag, long_arg, long_flag = program_options(repo, program)
    opts, operands = {}, []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            operands.extend(argv[i + 1 :])
            break
        if a.startswith("--"):
            key, eq, val = a.partition("=")
            if key in long_arg:
                if not eq:
                    i += 1
                    if i == len(argv):
                        raise Fail("service '%s': %s needs an argument" % (name, key))
                    val = argv[i]
                opts.setdefault(key, []).append(val)
            elif key in long_flag and not eq:
                opts.setdefault(key, []).append(None)
            else:
                raise Fail("service '%s': %s has no option '%s'" % (name, program, a))
        elif a.startswith("-") and a != "-":
            key = a[:2]
            if key in short_arg:
                val = a[2:]
                if not val:
                    i += 1
                    if i == len(argv):
                        raise Fail("service '%s': %s needs an argument" % (name, key))
                    val = argv[i]
                opts.setdefault(key, []).append(val)
            elif key in short_flag and len(a) == 2:
                opts.setdefault(key, []).append(None)
            else:
                raise Fail("service '%s': %s has no option '%s'" % (name, program, a))
        else:
            operands.append(a)  # getopt_long permutes: operands may come anywhere
        i += 1
    return program, opts, operands


def parse_dockerfile(text):
    """Dockerfile -> list of stages {image, name, line, instrs: [(line, KEYWORD, args)]}."""
    instrs, buf, start = [], None, 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.strip()
        if stripped.startswith("#") or (buf is None and not stripped):
            continue  # comments (also inside a continued instruction), blank lines
        if buf is None:
            buf, start = "", n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        kw, _, args = buf.strip().partition(" ")
        instrs.append((start, kw.upper(), args.strip()))
        buf = None
    if buf:
        kw, _, args = buf.strip().partition(" ")
        instrs.append((start, kw.upper(), args.strip()))
    stages = []
    for n, kw, args in instrs:
        if kw == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            if not words:
                raise Fail("Dockerfile:%d: FROM without an image" % n)
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append({"image": words[0], "name": name, "line": n, "instrs": []})
        elif stages:
            stages[-1]["instrs"].append((n, kw, args))
    if not stages:
        raise Fail("Dockerfile: no FROM instruction")
    return stages


def copy_parts(args):
    """COPY/ADD arguments -> ({flag: value}, [sources], dest)."""
    if args.startswith("["):
        words = json.loads(args)
        flags = {}
    else:
        words = args.split()
        flags = {}
        while words and words[0].startswith("--"):
            k, _, v = words.pop(0).partition("=")
            flags[k] = v
    if len(words) < 2:
        raise Fail("Dockerfile: COPY %s: expected sources and a destination" % args)
    return flags, words[:-1], words[-1]


def norm(path):
    """'./a/b/' -> 'a/b', '/out/' -> '/out', '/' stays '/'."""
    p = path
    while p.startswith("./"):
        p = p[2:]
    return p.rstrip("/") or "/"


def stage_label(stages, i):
    return "stage %d (FROM %s%s)" % (
        i + 1, stages[i]["image"], " AS " + stages[i]["name"] if stages[i]["name"] else "")


def install_layout(repo):
    """Where the image has newswatch's config directory, following the chain
    Dockerfile (make install PREFIX=... DESTDIR=...; COPY --from=... DESTDIR /) ->
    Makefile install rule (config/* -> $(PREFIX)/share/newswatch/config/).
    Returns (config dir in the image, description)."""
    stages = repo.dockerfile()
    runtime = stages[-1]
    rule = re.search(r"config/\*\s+\$\(DESTDIR\)\$\(PREFIX\)(/\S*)", repo.text("Makefile"))
    if not rule:
        raise Fail("Makefile: the install rule does not copy config/* to "
                   "$(DESTDIR)$(PREFIX)/...")
    for n, kw, args in runtime["instrs"]:
        if kw != "COPY":
            continue
        flags, srcs, dest = copy_parts(args)
        src_stage = flags.get("--from")
        if src_stage is None or norm(dest) != "/" or len(srcs) != 1:
            continue
        idx = next((i for i, s in enumerate(stages[:-1])
                    if s["name"] == src_stage or str(i) == src_stage), None)
        if idx is None:
            raise Fail("Dockerfile:%d: COPY --from=%s names no earlier stage" % (n, src_stage))
        destdir = norm(srcs[0])
        for m_line, m_kw, m_args in stages[idx]["instrs"]:
            if m_kw != "RUN":
                continue
            for seg in re.split(r"&&|\|\||;", m_args):
                words = seg.split()
                if "make" not in words or "install" not in words:
                    continue
                vals = dict(w.split("=", 1) for w in words if "=" in w)
                if norm(vals.get("DESTDIR", "")) != destdir:
                    continue
                prefix = vals.get("PREFIX") or makefile_default(repo, "PREFIX")
                config_dir = norm(prefix) + norm(rule.group(1)) + "/"
                return config_dir, (
                    "Dockerfile:%d `make install PREFIX=%s DESTDIR=%s`, Dockerfile:%d copies %s "
                    "to / in the runtime stage, Makefile installs config/* in "
                    "$(PREFIX)%s" % (m_line, prefix, destdir, n, destdir, rule.group(1)))
        raise Fail("Dockerfile: %s runs no `make install ... DESTDIR=%s` for the runtime "
                   "stage's COPY --from=%s %s /" % (stage_label(stages, idx), destdir,
                                                   src_stage, srcs[0]))
    raise Fail("Dockerfile: the runtime stage (%s) copies no `make install` tree "
               "(COPY --from=<build stage> <DESTDIR> /)" % stage_label(stages, len(stages) - 1))


def read_kvconf(repo, rel):
    """config file -> {section: {key: (value, line)}}, like lib/kvconf.c: '#' lines are
    comments, [section] headers, key = value lines; entries before any header are
    in [kafka]; the last of a repeated key wins."""
    out, section = {}, "kafka"
    for n, raw in enumerate(repo.text(rel).splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("["):
            if not s.endswith("]") or not s[1:-1].strip():
                raise Fail("%s:%d: a section header must look like [name]" % (rel, n))
            section = s[1:-1].strip()
            continue
        key, eq, value = s.partition("=")
        if not eq or not key.strip():
            raise Fail("%s:%d: expected 'key = value', found '%s'" % (rel, n, s[:60]))
        out.setdefault(section, {})[key.strip()] = (value.strip(), n)
    return out


def broker_addresses(repo):
    """(advertised host:port for containers, advertised host:port for the host)."""
    kafka = repo.service("kafka")
    names = {"kafka"} | {str(kafka[k]) for k in ("hostname", "container_name") if k in kafka}
    adv = parse_listeners(env_value(repo, "kafka", "KAFKA_ADVERTISED_LISTENERS"),
                          "kafka KAFKA_ADVERTISED_LISTENERS")
    containers = {"%s:%d" % (h, p): l for l, h, p in adv if h in names}
    host = {"%s:%d" % (h, p): l for l, h, p in adv if h in LOCAL_HOSTS}
    return containers, host


# ---------------------------------------------------------------- the checks


def check_compose_file(repo):
    doc = repo.compose()
    if "version" in doc:
        raise Fail("docker-compose.yml: drop the obsolete top-level 'version:' key "
                   "(Compose specification)")
    return "docker-compose.yml parses (yaml.safe_load) and has no 'version:' key"


def check_services(repo):
    have = repo.compose()["services"]
    missing = [s for s in SERVICES if s not in have]
    if missing:
        raise Fail("docker-compose.yml: missing service(s): %s (have: %s)"
                   % (", ".join(missing), ", ".join(have) or "none"))
    profiled = [s for s in SERVICES if have[s].get("profiles")]
    if profiled:
        raise Fail("docker-compose.yml: service(s) %s have profiles, so a plain "
                   "`docker compose up` skips them" % ", ".join(profiled))
    return "services %s exist, none behind a profile" % ", ".join(SERVICES)


def check_kafka_image(repo):
    image = repo.service("kafka").get("image")
    if image != KAFKA_IMAGE:
        raise Fail("service 'kafka': image is %r, expected exactly %r" % (image, KAFKA_IMAGE))
    return "kafka image is %s" % KAFKA_IMAGE


def check_newswatch_image(repo):
    for name in NEWSWATCH_SERVICES:
        svc = repo.service(name)
        if svc.get("image") != NEWSWATCH_IMAGE:
            raise Fail("service '%s': image is %r, expected %r"
                       % (name, svc.get("image"), NEWSWATCH_IMAGE))
        build = svc.get("build")
        ctx = build if isinstance(build, str) else (build or {}).get("context")
        dockerfile = "Dockerfile" if isinstance(build, str) else (build or {}).get(
            "dockerfile", "Dockerfile")
        if ctx is None or norm(str(ctx)) not in (".", ""):
            raise Fail("service '%s': build context is %r, expected the repository (.)"
                       % (name, ctx))
        if dockerfile != "Dockerfile":
            raise Fail("service '%s': builds from %r, expected Dockerfile" % (name, dockerfile))
    repo.text("Dockerfile")
    return "%s are built from ./Dockerfile as %s" % (", ".join(NEWSWATCH_SERVICES),
                                                     NEWSWATCH_IMAGE)


def check_kafka_port(repo):
    port = int(makefile_default(repo, "KAFKA_PORT"))
    listeners = {l: p for l, h, p in parse_listeners(
        env_value(repo, "kafka", "KAFKA_LISTENERS"), "kafka KAFKA_LISTENERS")}
    _, host_adv = broker_addresses(repo)
    ports = repo.service("kafka").get("ports") or []
    if not ports:
        raise Fail("service 'kafka' publishes no port; expected 127.0.0.1:%d" % port)
    parsed = [parse_port(p) for p in ports]
    for entry, (ip, pub, tgt) in zip(ports, parsed):
        if ip != "127.0.0.1":
            raise Fail("service 'kafka': port %r is not bound to 127.0.0.1 (the broker "
                       "has no authentication; keep it off the network)" % (entry,))
    match = [(pub, tgt) for ip, pub, tgt in parsed if pub == port]
    if not match:
        raise Fail("service 'kafka': no port published on 127.0.0.1:%d (the Makefile's "
                   "KAFKA_PORT ?= %d); published: %s" % (port, port, ", ".join(map(str, ports))))
    tgt = match[0][1]
    host_listener_ports = {listeners.get(l) for l in host_adv.values()}
    if tgt not in host_listener_ports:
        raise Fail("service 'kafka': 127.0.0.1:%d forwards to container port %s, but the "
                   "host's listener (%s) listens on %s" % (
                       port, tgt, ", ".join(host_adv.values()) or "none",
                       ", ".join(str(p) for p in host_listener_ports)))
    return "kafka publishes 127.0.0.1:%d (Makefile KAFKA_PORT ?= %d) to its host listener's " \
           "port %d" % (port, port, tgt)


def check_host_advertised(repo):
    port = int(makefile_default(repo, "KAFKA_PORT"))
    _, host_adv = broker_addresses(repo)
    if not host_adv:
        raise Fail("kafka KAFKA_ADVERTISED_LISTENERS: no listener advertised for the host "
                   "(localhost:%d)" % port)
    bad = [a for a in host_adv if int(a.rsplit(":", 1)[1]) != port]
    if bad:
        raise Fail("kafka KAFKA_ADVERTISED_LISTENERS: the host's listener advertises %s, "
                   "expected port %d (the Makefile's KAFKA_PORT)" % (", ".join(bad), port))
    return "the host's advertised listener is %s" % ", ".join(
        "%s://%s" % (l, a) for a, l in host_adv.items())


def check_listeners(repo):
    listen = parse_listeners(env_value(repo, "kafka", "KAFKA_LISTENERS"), "kafka KAFKA_LISTENERS")
    listen_ports = {l: p for l, h, p in listen}
    adv = parse_listeners(env_value(repo, "kafka", "KAFKA_ADVERTISED_LISTENERS"),
                          "kafka KAFKA_ADVERTISED_LISTENERS")
    protomap = dict(item.split(":", 1) for item in
                    env_value(repo, "kafka", "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP").split(","))
    controllers = env_value(repo, "kafka", "KAFKA_CONTROLLER_LISTENER_NAMES").split(",")
    inter = env_value(repo, "kafka", "KAFKA_INTER_BROKER_LISTENER_NAME")
    for l in listen_ports:
        if l not in protomap:
            raise Fail("kafka: listener %s is not in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP" % l)
    for l, h, p in adv:
        if listen_ports.get(l) != p:
            raise Fail("kafka: advertised listener %s://%s:%d does not match KAFKA_LISTENERS "
                       "(%s listens on %s)" % (l, h, p, l, listen_ports.get(l, "nothing")))
    for c in controllers:
        if c not in listen_ports:
            raise Fail("kafka: controller listener %s is not in KAFKA_LISTENERS" % c)
        if any(l == c for l, h, p in adv):
            raise Fail("kafka: controller listener %s must not be advertised" % c)
    containers, _ = broker_addresses(repo)
    if inter not in containers.values():
        raise Fail("kafka: the inter-broker listener %s is not advertised under the "
                   "service's name" % inter)
    return "kafka listeners agree: %s; advertised %s; inter-broker %s" % (
        env_value(repo, "kafka", "KAFKA_LISTENERS"),
        env_value(repo, "kafka", "KAFKA_ADVERTISED_LISTENERS"), inter)


def check_quorum(repo):
    voters = env_value(repo, "kafka", "KAFKA_CONTROLLER_QUORUM_VOTERS")
    node = env_value(repo, "kafka", "KAFKA_NODE_ID")
    listen = {l: p for l, h, p in parse_listeners(
        env_value(repo, "kafka", "KAFKA_LISTENERS"), "kafka KAFKA_LISTENERS")}
    controllers = env_value(repo, "kafka", "KAFKA_CONTROLLER_LISTENER_NAMES").split(",")
    cport = listen.get(controllers[0])
    m = re.match(r"^(\d+)@([^:,]+):(\d+)$", voters)
    if not m:
        raise Fail("kafka KAFKA_CONTROLLER_QUORUM_VOTERS=%s: expected one voter, "
                   "id@host:port, for a single node" % voters)
    if m.group(1) != node:
        raise Fail("kafka: quorum voter id %s is not KAFKA_NODE_ID %s" % (m.group(1), node))
    if int(m.group(3)) != cport:
        raise Fail("kafka: quorum voter port %s does not match the %s listener's port %s"
                   % (m.group(3), controllers[0], cport))
    if m.group(2) != "kafka":
        raise Fail("kafka: quorum voter host %s is not the service name 'kafka'" % m.group(2))
    return "quorum voter %s matches KAFKA_NODE_ID and the %s listener's port %d" % (
        voters, controllers[0], cport)


def check_single_node(repo):
    want = {
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
    }
    env = environment(repo, "kafka")
    for k, v in want.items():
        if env.get(k) != v:
            raise Fail("kafka: %s is %r, expected %r" % (k, env.get(k), v))
    return "kafka is a single KRaft node (broker,controller), internal topics with one " \
           "replica, no topic auto-creation"


def check_healthcheck(repo):
    hc = repo.service("kafka").get("healthcheck") or {}
    test = hc.get("test")
    text = " ".join(map(str, test)) if isinstance(test, list) else str(test or "")
    m = re.search(r"/opt/kafka/bin/(kafka-broker-api-versions|kafka-topics)\.sh\b.*?"
                  r"--bootstrap-server[ =](\S+)", text)
    if not m:
        raise Fail("service 'kafka': the healthcheck does not run /opt/kafka/bin/"
                   "kafka-broker-api-versions.sh (or kafka-topics.sh) --bootstrap-server ...")
    containers, host = broker_addresses(repo)
    if m.group(2) not in containers and m.group(2) not in host:
        raise Fail("service 'kafka': the healthcheck's --bootstrap-server %s is not an "
                   "advertised listener (%s)" % (m.group(2), ", ".join(list(containers) +
                                                                       list(host))))
    return "kafka healthcheck: %s.sh --bootstrap-server %s" % (m.group(1), m.group(2))


def check_order(repo):
    want = {"topics": ("kafka", "service_healthy", "no"),
            "consumer": ("topics", "service_completed_successfully", "unless-stopped"),
            "producer": ("topics", "service_completed_successfully", "no")}
    for name, (dep, cond, restart) in want.items():
        deps = repo.service(name).get("depends_on")
        got = deps.get(dep, {}).get("condition") if isinstance(deps, dict) else None
        if got != cond:
            raise Fail("service '%s': depends_on %s should have condition %s (has %s)"
                       % (name, dep, cond, got))
        r = repo.service(name).get("restart")
        if r is False:
            raise Fail("service '%s': restart: no must be quoted (\"no\"): unquoted, YAML "
                       "1.1 reads a boolean" % name)
        if r != restart:
            raise Fail("service '%s': restart is %r, expected %r" % (name, r, restart))
    if not repo.service("kafka").get("healthcheck"):
        raise Fail("service 'kafka' has no healthcheck, so service_healthy never holds")
    return "start order: kafka healthy -> topics (one-shot) completed -> consumer " \
           "(unless-stopped), producer (one-shot)"


def check_programs(repo):
    want = {"topics": "newswatch-consumer", "consumer": "newswatch-consumer",
            "producer": "newswatch-producer"}
    for name, program in want.items():
        got, opts, operands = service_command(repo, name)
        if got != program:
            raise Fail("service '%s' runs %s, expected %s" % (name, got, program))
        if program == "newswatch-consumer" and operands:
            raise Fail("service '%s': newswatch-consumer takes no operands, got %s"
                       % (name, " ".join(operands)))
    if "--create-topics" not in service_command(repo, "topics")[1]:
        raise Fail("service 'topics' does not run --create-topics")
    if "--create-topics" in service_command(repo, "consumer")[1]:
        raise Fail("service 'consumer' runs --create-topics: it is the daemon")
    return "commands parse with the programs' own option tables (%s): topics runs " \
           "--create-topics, consumer the daemon, producer the seeds" % ", ".join(
               sorted(PROGRAM_SOURCES.values()))


def check_brokers(repo):
    containers, _ = broker_addresses(repo)
    if not containers:
        raise Fail("kafka KAFKA_ADVERTISED_LISTENERS advertises nothing under the service "
                   "name 'kafka' for the other containers")
    used = []
    for name in NEWSWATCH_SERVICES:
        _, opts, _ = service_command(repo, name)
        if "-b" not in opts:
            raise Fail("service '%s': no -b: the programs' default 127.0.0.1:9092 is the "
                       "container itself" % name)
        for value in opts["-b"]:
            for addr in value.split(","):
                if addr.strip() not in containers:
                    raise Fail("service '%s': -b %s is not a listener advertised for "
                               "containers (%s)" % (name, addr, ", ".join(containers)))
                used.append("%s: -b %s" % (name, addr.strip()))
    return "broker addresses are advertised for containers (%s): %s" % (
        ", ".join("%s://%s" % (l, a) for a, l in containers.items()), "; ".join(used))


def check_topics_source(repo):
    text = repo.text("lib/topics.c")
    keys = c_string_array(text, "keys", "lib/topics.c")
    defaults = c_string_array(text, "defaults", "lib/topics.c")
    if tuple(keys) != TOPIC_KEYS:
        raise Fail("lib/topics.c: keys are %s, expected %s" % (keys, list(TOPIC_KEYS)))
    got = dict(zip(keys, defaults))
    if len(defaults) != len(keys) or got != TOPIC_DEFAULTS:
        raise Fail("lib/topics.c: defaults are %s, expected %s"
                   % (defaults, [TOPIC_DEFAULTS[k] for k in TOPIC_KEYS]))
    return "lib/topics.c defaults are %s" % ", ".join(defaults)


def check_topics_readme(repo):
    rows = set(re.findall(r"^\s*\|\s*`([^`|]+)`\s*\|", repo.text("README.md"), re.M))
    missing = [TOPIC_DEFAULTS[k] for k in TOPIC_KEYS if TOPIC_DEFAULTS[k] not in rows]
    if missing:
        raise Fail("README.md: no table row starting with | `<topic>` | for %s"
                   % ", ".join(missing))
    return "README.md has a table row for each of the %d topics" % len(TOPIC_KEYS)


def check_topics_config(repo):
    rel = "config/newswatch.conf"
    topics = read_kvconf(repo, rel).get("topics")
    if not topics:
        return "%s has no [topics] section: the programs use lib/topics.c's defaults" % rel
    for key, (value, n) in topics.items():
        if key not in TOPIC_DEFAULTS:
            raise Fail("%s:%d: unknown key '%s' in [topics] (known: %s)"
                       % (rel, n, key, ", ".join(TOPIC_KEYS)))
        if value != TOPIC_DEFAULTS[key]:
            raise Fail("%s:%d: [topics] %s = %s, but the default (lib/topics.c, README.md) "
                       "is %s" % (rel, n, key, value, TOPIC_DEFAULTS[key]))
    return "%s [topics] agrees with the defaults (%s)" % (rel, ", ".join(
        "%s = %s" % (k, topics[k][0]) for k in TOPIC_KEYS if k in topics))


def check_producer_topic(repo):
    _, opts, _ = service_command(repo, "producer")
    raw = TOPIC_DEFAULTS["raw"]
    where = "lib/topics.c"
    if os.path.isfile(repo.path("config/newswatch.conf")):
        conf_raw = read_kvconf(repo, "config/newswatch.conf").get("topics", {}).get("raw")
        if conf_raw:
            raw, where = conf_raw[0], "config/newswatch.conf:%d" % conf_raw[1]
    topics = opts.get("-t")
    if not topics:
        raise Fail("service 'producer': no -t (expected -t %s)" % raw)
    if topics[-1] != raw:
        raise Fail("service 'producer': -t %s, but the raw topic is %s (%s)"
                   % (topics[-1], raw, where))
    return "producer publishes to the raw topic: -t %s (%s)" % (raw, where)


def check_config_path(repo):
    config_dir, how = install_layout(repo)
    if config_dir != CONFIG_DIR_IN_IMAGE:
        raise Fail("the image's config directory is %s (%s), expected %s"
                   % (config_dir, how, CONFIG_DIR_IN_IMAGE))
    if not os.path.isdir(repo.path("config")):
        raise Fail("config/: the directory is missing (looked for %s)" % repo.path("config"))
    used = []
    for name in NEWSWATCH_SERVICES:
        _, opts, _ = service_command(repo, name)
        for path in opts.get("-c", []):
            if not path.startswith(CONFIG_DIR_IN_IMAGE) or "/" in path[len(CONFIG_DIR_IN_IMAGE):]:
                raise Fail("service '%s': -c %s is not a file in the image's config "
                           "directory %s" % (name, path, CONFIG_DIR_IN_IMAGE))
            base = path[len(CONFIG_DIR_IN_IMAGE):]
            if not os.path.isfile(repo.path(os.path.join("config", base))):
                raise Fail("service '%s': -c %s, but config/%s: the file is missing (looked "
                           "for %s)" % (name, path, base, repo.path(os.path.join("config", base))))
            used.append("%s: -c %s" % (name, path))
    if not used:
        raise Fail("no service passes -c: the topics service should name the config file")
    return "config files exist in the image (%s): %s" % (how, "; ".join(used))


def check_dockerfile_runtime(repo):
    stages = repo.dockerfile()
    if len(stages) < 2:
        raise Fail("Dockerfile: expected a build stage and a runtime stage, found %d stage"
                   % len(stages))
    runtime = stages[-1]
    label = stage_label(stages, len(stages) - 1)
    if runtime["image"] != "debian:12-slim":
        raise Fail("Dockerfile: the runtime %s is not debian:12-slim" % label)
    if stages[0]["image"] != "debian:12":
        raise Fail("Dockerfile: the build %s is not debian:12" % stage_label(stages, 0))
    installed = set()
    for n, kw, args in runtime["instrs"]:
        if kw == "RUN" and "apt-get" in args and "install" in args:
            installed |= {w.split("=")[0] for w in args.split()}
        if kw == "ENTRYPOINT":
            raise Fail("Dockerfile:%d: the runtime stage has an ENTRYPOINT; the compose "
                       "commands name the program" % n)
    if "librdkafka1" not in installed:
        raise Fail("Dockerfile: the runtime %s does not apt-get install librdkafka1" % label)
    seeds = []
    for n, kw, args in runtime["instrs"]:
        if kw in ("COPY", "ADD"):
            flags, srcs, dest = copy_parts(args)
            if "--from" not in flags and SEEDS_IN_REPO in map(norm, srcs) \
                    and norm(dest) == SEEDS_IN_IMAGE:
                seeds.append(n)
    if not seeds:
        raise Fail("Dockerfile: the runtime %s does not COPY %s to %s"
                   % (label, SEEDS_IN_REPO, SEEDS_IN_IMAGE))
    if not os.path.isdir(repo.path(SEEDS_IN_REPO)) or not os.listdir(repo.path(SEEDS_IN_REPO)):
        raise Fail("%s: missing or empty (looked for %s)" % (SEEDS_IN_REPO,
                                                            repo.path(SEEDS_IN_REPO)))
    _, _, operands = service_command(repo, "producer")
    if not operands:
        raise Fail("service 'producer' names no path: it would read standard input")
    for p in operands:
        if norm(p) != SEEDS_IN_IMAGE and not p.startswith(SEEDS_IN_IMAGE + "/"):
            raise Fail("service 'producer': path %s is not under %s, the only samples "
                       "in the image" % (p, SEEDS_IN_IMAGE))
    users = [args.split(":")[0] for n, kw, args in runtime["instrs"] if kw == "USER"]
    if not users or users[-1] in ("root", "0"):
        raise Fail("Dockerfile: the runtime %s runs as root (add a USER)" % label)
    return "Dockerfile runtime stage (debian:12-slim) installs librdkafka1, copies %s to %s " \
           "(Dockerfile:%d; the producer reads it), no ENTRYPOINT, runs as USER %s" % (
               SEEDS_IN_REPO, SEEDS_IN_IMAGE, seeds[0], users[-1])


CHECKS = (
    check_compose_file,
    check_services,
    check_kafka_image,
    check_newswatch_image,
    check_kafka_port,
    check_host_advertised,
    check_listeners,
    check_quorum,
    check_single_node,
    check_healthcheck,
    check_order,
    check_programs,
    check_brokers,
    check_topics_source,
    check_topics_readme,
    check_topics_config,
    check_producer_topic,
    check_config_path,
    check_dockerfile_runtime,
)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Static check of docker-compose.yml and "
                                 "Dockerfile against the repository.")
    ap.add_argument("--repo", default=os.path.normpath(os.path.join(here, "..", "..")),
                    help="repository root (default: the one holding this script)")
    args = ap.parse_args()
    repo = Repo(os.path.abspath(args.repo))
    failed = 0
    for check in CHECKS:
        try:
            msg = check(repo)
        except Fail as e:
            failed += 1
            print("FAIL: %s" % e, file=sys.stderr, flush=True)
        except Exception as e:  # a bug or a shape this script does not expect
            failed += 1
            print("FAIL: %s: %s: %s" % (check.__name__, type(e).__name__, e),
                  file=sys.stderr, flush=True)
        else:
            print("ok: %s" % msg, flush=True)
    total = len(CHECKS)
    if failed:
        print("compose check: %d of %d checks failed (%s)" % (failed, total, repo.root),
              file=sys.stderr, flush=True)
        return 1
    print("compose check: all %d checks passed (%s)" % (total, repo.root), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
