//! The deployment files in `deploy/` against the binary they deploy: every file parses, every
//! `HEZUO_*` variable they set is one `hezuo` reads, one port everywhere, the probes ask
//! `/readyz` and `/healthz`, every container runs a subcommand `hezuo` has, nothing runs as
//! root, names and labels refer to what exists, and the SQLite variant is one replica
//! (docs/operations.md "Deployment").

use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where the image puts the binary (deploy/Containerfile) and every container runs it from.
const BINARY: &str = "/usr/local/bin/hezuo";

/// The label every object carries.
const NAME_LABEL: (&str, &str) = ("app.kubernetes.io/name", "hezuo");

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Runs the `hezuo` under test with `args`, with no `HEZUO_*` variable of this environment.
fn hezuo(args: &[String]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hezuo"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HEZUO_") {
            cmd.env_remove(name);
        }
    }
    cmd.args(args).output().expect("running the hezuo binary")
}

/// Asserts that `hezuo ARGS --help` succeeds: ARGS name a subcommand the binary has, with
/// flags it takes.
fn assert_subcommand_exists(args: &[String], what: &str) {
    assert!(!args.is_empty(), "{what}: runs hezuo without a subcommand");
    let mut with_help = args.to_vec();
    with_help.push("--help".to_owned());
    let out = hezuo(&with_help);
    assert!(
        out.status.success(),
        "{what}: `hezuo {}` fails ({}): {}",
        with_help.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The variables the binary reads: every `[env: NAME=…]` of its help texts, plus the two it
/// reads itself rather than through its flags, which the help texts therefore do not list:
/// `HEZUO_LOG` (the log filter) and `HEZUO_SECRET_KEY` (the key that seals secrets).
fn accepted_variables() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let out = hezuo(&args);
        assert!(out.status.success(), "`hezuo {}` fails: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        let help = String::from_utf8_lossy(&out.stdout);
        for after in help.split("[env: ").skip(1) {
            names.insert(after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    names.extend(["HEZUO_LOG".to_owned(), "HEZUO_SECRET_KEY".to_owned()]);
    names
}

/// The documents of a YAML file. serde_yaml_ng reads one document per call, so the stream is
/// cut at its document markers (a line `---`, where YAML separates documents); a part with only
/// comments is no document. Any other marker stays inside its part and fails to parse, so
/// nothing is passed over unread.
fn documents(path: &Path) -> Vec<Value> {
    let text = read(path);
    let mut parts = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            parts.push(String::new());
        } else {
            let part = parts.last_mut().expect("there is always a part");
            part.push_str(line);
            part.push('\n');
        }
    }
    parts
        .iter()
        .filter(|part| part.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')))
        .map(|part| serde_yaml_ng::from_str(part).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display())))
        .collect()
}

/// The value at a path of mapping keys.
fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, key| v.get(*key))
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default()
}

/// A list of strings (an exec-form command), or a string split at spaces; `None` when absent.
fn words(v: Option<&Value>, what: &str) -> Option<Vec<String>> {
    let v = v?;
    if let Some(s) = v.as_str() {
        return Some(s.split_whitespace().map(str::to_owned).collect());
    }
    let items = v.as_sequence().unwrap_or_else(|| panic!("{what}: neither a string nor a list: {v:?}"));
    Some(items.iter().map(|i| scalar(i).unwrap_or_else(|| panic!("{what}: not a word: {i:?}"))).collect())
}

/// A string or number as text.
fn scalar(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string()))
}

/// The keys and values of a mapping of strings (labels, selectors, ConfigMap data).
fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let Some(mapping) = v.and_then(Value::as_mapping) else { return BTreeMap::new() };
    mapping
        .iter()
        .map(|(k, v)| {
            let key = k.as_str().unwrap_or_else(|| panic!("a key that is not text: {k:?}"));
            (key.to_owned(), scalar(v).unwrap_or_else(|| panic!("{key}: not a string: {v:?}")))
        })
        .collect()
}

/// Whether a non-empty selector picks a pod with these labels.
fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The port of a listen address such as `0.0.0.0:8080`.
fn listen_port(addr: &str, what: &str) -> u16 {
    let (_, port) = addr.rsplit_once(':').unwrap_or_else(|| panic!("{what}: {addr:?} has no port"));
    port.parse().unwrap_or_else(|e| panic!("{what}: the port of {addr:?}: {e}"))
}

/// The port and path of an `http://host:port/path` URL.
fn url_port_and_path(url: &str, what: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap_or_else(|| panic!("{what}: {url:?} is not http://"));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    (listen_port(authority, what), format!("/{path}"))
}

/// One object of deploy/k8s and the file it is in.
struct Object {
    file: String,
    doc: Value,
}

impl Object {
    fn kind(&self) -> &str {
        text(&self.doc, &["kind"]).unwrap_or_else(|| panic!("{}: an object without a kind", self.file))
    }

    fn name(&self) -> &str {
        text(&self.doc, &["metadata", "name"]).unwrap_or("")
    }

    fn what(&self) -> String {
        format!("{} {} ({})", self.kind(), self.name(), self.file)
    }

    /// The pod template's spec of a workload.
    fn pod(&self) -> Option<&Value> {
        at(&self.doc, &["spec", "template", "spec"])
    }

    fn containers(&self) -> &[Value] {
        self.pod().map(|p| list(p, &["containers"])).unwrap_or_default()
    }

    fn pod_labels(&self) -> BTreeMap<String, String> {
        string_map(at(&self.doc, &["spec", "template", "metadata", "labels"]))
    }

    /// Every port of the pod: its name (if any) and number.
    fn pod_ports(&self) -> Vec<(Option<String>, u16)> {
        self.containers()
            .iter()
            .flat_map(|c| list(c, &["ports"]))
            .map(|p| {
                let number = at(p, &["containerPort"]).and_then(Value::as_u64).expect("a containerPort number");
                let number = u16::try_from(number).expect("a port number below 65536");
                (text(p, &["name"]).map(str::to_owned), number)
            })
            .collect()
    }

    /// The number a port reference (a number, or the name of one of the pod's ports) stands for.
    fn resolve_port(&self, reference: &Value, what: &str) -> u16 {
        if let Some(n) = reference.as_u64() {
            return u16::try_from(n).expect("a port number below 65536");
        }
        let name = reference.as_str().unwrap_or_else(|| panic!("{what}: a port that is neither name nor number"));
        let found: Vec<u16> =
            self.pod_ports().into_iter().filter(|(n, _)| n.as_deref() == Some(name)).map(|(_, p)| p).collect();
        assert_eq!(found.len(), 1, "{what}: port {name:?} names {} ports of {}", found.len(), self.what());
        found[0]
    }
}

/// The instructions of the Containerfile's last stage (the image that runs), continuation
/// lines joined, as (INSTRUCTION, arguments).
struct Containerfile(Vec<(String, String)>);

impl Containerfile {
    fn parse(text: &str) -> Containerfile {
        let mut instructions = Vec::new();
        let mut pending = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match trimmed.strip_suffix('\\') {
                Some(head) => {
                    pending.push_str(head);
                    pending.push(' ');
                }
                None => {
                    pending.push_str(trimmed);
                    let (word, rest) = pending.split_once(char::is_whitespace).unwrap_or((pending.as_str(), ""));
                    instructions.push((word.to_ascii_uppercase(), rest.trim().to_owned()));
                    pending.clear();
                }
            }
        }
        let last_from = instructions.iter().rposition(|(i, _)| i == "FROM").expect("a FROM in deploy/Containerfile");
        Containerfile(instructions.split_off(last_from))
    }

    fn all(&self, instruction: &str) -> Vec<&str> {
        self.0.iter().filter(|(i, _)| i == instruction).map(|(_, rest)| rest.as_str()).collect()
    }

    /// The arguments of the one `instruction` of the run stage.
    fn one(&self, instruction: &str) -> &str {
        let found = self.all(instruction);
        assert_eq!(found.len(), 1, "deploy/Containerfile: {} {instruction} in the run stage, not one", found.len());
        found[0]
    }

    /// An exec-form (JSON array) instruction, such as ENTRYPOINT or CMD.
    fn exec_form(&self, instruction: &str) -> Vec<String> {
        let v: Value = serde_yaml_ng::from_str(self.one(instruction))
            .unwrap_or_else(|e| panic!("deploy/Containerfile {instruction}: not a JSON array: {e}"));
        words(Some(&v), instruction).expect("an exec-form list")
    }

    /// The value an ENV instruction of the run stage gives `name`.
    fn env(&self, name: &str) -> Option<String> {
        self.env_pairs().into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn env_pairs(&self) -> Vec<(String, String)> {
        self.all("ENV")
            .into_iter()
            .flat_map(str::split_whitespace)
            .map(|pair| {
                let (name, value) = pair.split_once('=').expect("ENV NAME=value");
                (name.to_owned(), value.trim_matches('"').to_owned())
            })
            .collect()
    }

    /// The image's numeric user and group (`USER uid[:gid]`).
    fn user(&self) -> (u32, Option<u32>) {
        let user = self.one("USER");
        let numeric = |s: &str| -> u32 {
            s.parse().unwrap_or_else(|_| panic!("deploy/Containerfile: USER {user:?} is not numeric uid[:gid]"))
        };
        match user.split_once(':') {
            Some((uid, gid)) => (numeric(uid), Some(numeric(gid))),
            None => (numeric(user), None),
        }
    }
}

/// Every deployment file, parsed.
struct Deploy {
    compose: Value,
    k8s: Vec<Object>,
    containerfile: Containerfile,
    /// The names of the files in deploy/k8s.
    k8s_files: Vec<String>,
}

fn load() -> Deploy {
    let dir = deploy_dir();
    let compose = match &documents(&dir.join("compose.yaml"))[..] {
        [doc] => doc.clone(),
        docs => panic!("deploy/compose.yaml: {} documents, not one", docs.len()),
    };
    let mut k8s_files: Vec<String> = std::fs::read_dir(dir.join("k8s"))
        .expect("reading deploy/k8s")
        .map(|e| e.expect("an entry of deploy/k8s").file_name().to_string_lossy().into_owned())
        .collect();
    k8s_files.sort();
    let k8s = k8s_files
        .iter()
        .flat_map(|file| {
            documents(&dir.join("k8s").join(file))
                .into_iter()
                .map(move |doc| Object { file: format!("k8s/{file}"), doc })
        })
        .collect();
    let containerfile = Containerfile::parse(&read(&dir.join("Containerfile")));
    Deploy { compose, k8s, containerfile, k8s_files }
}

impl Deploy {
    fn of_kind(&self, kind: &str) -> Vec<&Object> {
        self.k8s.iter().filter(|o| o.kind() == kind).collect()
    }

    fn only(&self, kind: &str) -> &Object {
        let found = self.of_kind(kind);
        assert_eq!(found.len(), 1, "deploy/k8s: {} objects of kind {kind}, not one", found.len());
        found[0]
    }

    /// The objects of a kind by name.
    fn named(&self, kind: &str) -> BTreeMap<&str, &Object> {
        self.of_kind(kind).into_iter().map(|o| (o.name(), o)).collect()
    }

    /// Deployments and StatefulSets: what runs hezuo.
    fn workloads(&self) -> Vec<&Object> {
        self.k8s.iter().filter(|o| o.pod().is_some()).collect()
    }

    /// The compose services with their definitions.
    fn services(&self) -> Vec<(String, &Value)> {
        let services = at(&self.compose, &["services"]).and_then(Value::as_mapping).expect("compose.yaml: services");
        services.iter().map(|(k, v)| (k.as_str().expect("a service name").to_owned(), v)).collect()
    }

    fn service(&self, name: &str) -> &Value {
        at(&self.compose, &["services", name]).unwrap_or_else(|| panic!("compose.yaml: no service {name}"))
    }
}

/// A compose service's environment as name → value (a mapping, or a list of NAME=value).
fn compose_env(service: &Value) -> BTreeMap<String, String> {
    match at(service, &["environment"]) {
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| {
                let pair = i.as_str().expect("an environment entry NAME=value");
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (name.to_owned(), value.to_owned())
            })
            .collect(),
        other => string_map(other),
    }
}

/// A container's `env` entries with a literal value, name → value.
fn container_env(container: &Value) -> BTreeMap<String, String> {
    list(container, &["env"])
        .iter()
        .filter_map(|e| Some((text(e, &["name"])?.to_owned(), text(e, &["value"])?.to_owned())))
        .collect()
}

#[test]
fn every_file_parses_and_has_what_it_should() {
    let d = load();
    assert!(!d.services().is_empty(), "compose.yaml has no services");
    assert!(d.k8s_files.len() >= 7, "deploy/k8s holds only {:?}", d.k8s_files);
    for kind in ["ConfigMap", "Secret", "Deployment", "StatefulSet", "PodDisruptionBudget", "Kustomization"] {
        d.only(kind);
    }
    assert_eq!(d.of_kind("Service").len(), 2, "a Service for each variant");
    for o in &d.k8s {
        assert!(text(&o.doc, &["apiVersion"]).is_some(), "{}: no apiVersion", o.what());
    }
}

#[test]
fn every_variable_set_is_one_the_binary_reads() {
    let d = load();
    let accepted = accepted_variables();
    for known in ["HEZUO_DATABASE_URL", "HEZUO_LISTEN", "HEZUO_SHUTDOWN_GRACE", "HEZUO_TIMEZONE"] {
        assert!(accepted.contains(known), "{known} not found in hezuo's help texts: {accepted:?}");
    }

    let mut set: Vec<(String, String)> = Vec::new();
    for (name, service) in d.services() {
        set.extend(compose_env(service).into_keys().map(|v| (v, format!("compose.yaml service {name}"))));
    }
    for o in &d.k8s {
        if matches!(o.kind(), "ConfigMap" | "Secret") {
            for field in ["data", "stringData"] {
                set.extend(string_map(at(&o.doc, &[field])).into_keys().map(|v| (v, o.what())));
            }
        }
        for c in o.containers() {
            set.extend(list(c, &["env"]).iter().filter_map(|e| text(e, &["name"])).map(|v| (v.to_owned(), o.what())));
        }
    }
    set.extend(d.containerfile.env_pairs().into_iter().map(|(v, _)| (v, "Containerfile".to_owned())));
    set.retain(|(name, _)| name.starts_with("HEZUO_"));
    assert!(set.iter().any(|(name, _)| name == "HEZUO_DATABASE_URL"), "no HEZUO_DATABASE_URL set anywhere");

    let unknown: Vec<String> = set
        .iter()
        .filter(|(name, _)| !accepted.contains(name))
        .map(|(name, place)| format!("{name} in {place}"))
        .collect();
    assert!(unknown.is_empty(), "variables hezuo does not read: {unknown:#?}\nit reads: {accepted:?}");
}

#[test]
fn one_port_everywhere() {
    let d = load();
    let port: u16 = d.containerfile.one("EXPOSE").parse().expect("Containerfile: EXPOSE one port number");
    let listen = d.containerfile.env("HEZUO_LISTEN").expect("Containerfile: ENV HEZUO_LISTEN");
    assert_eq!(listen_port(&listen, "Containerfile"), port, "Containerfile: HEZUO_LISTEN and EXPOSE");

    let hezuo_service = d.service("hezuo");
    let env = compose_env(hezuo_service);
    let listen = env.get("HEZUO_LISTEN").expect("compose.yaml: hezuo's HEZUO_LISTEN");
    assert_eq!(listen_port(listen, "compose.yaml"), port, "compose.yaml: HEZUO_LISTEN");
    let published = list(hezuo_service, &["ports"]);
    assert!(!published.is_empty(), "compose.yaml: hezuo publishes no port");
    for p in published {
        let container_port = match p {
            Value::Mapping(_) => at(p, &["target"]).and_then(Value::as_u64).expect("ports: target").to_string(),
            _ => {
                let spec = scalar(p).expect("ports: HOST:CONTAINER");
                let spec = spec.split('/').next().unwrap_or_default().to_owned();
                spec.rsplit(':').next().unwrap_or_default().to_owned()
            }
        };
        assert_eq!(container_port, port.to_string(), "compose.yaml: published container port {p:?}");
    }
    let check = words(at(hezuo_service, &["healthcheck", "test"]), "compose.yaml healthcheck").expect("a healthcheck");
    let url = check.iter().find(|w| w.starts_with("http://")).expect("compose.yaml: the healthcheck's URL");
    assert_eq!(url_port_and_path(url, "compose.yaml healthcheck").0, port, "compose.yaml: healthcheck port");

    let config = d.only("ConfigMap");
    let listen = text(&config.doc, &["data", "HEZUO_LISTEN"]).expect("ConfigMap: HEZUO_LISTEN");
    assert_eq!(listen_port(listen, &config.what()), port, "ConfigMap: HEZUO_LISTEN");

    let workloads = d.workloads();
    assert_eq!(workloads.len(), 2, "a Deployment and a StatefulSet");
    for w in &workloads {
        let ports = w.pod_ports();
        assert!(ports.contains(&(Some("http".to_owned()), port)), "{}: no port http = {port}: {ports:?}", w.what());
        for c in w.containers() {
            if let Some(listen) = container_env(c).get("HEZUO_LISTEN") {
                assert_eq!(listen_port(listen, &w.what()), port, "{}: HEZUO_LISTEN", w.what());
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                let reference = at(c, &[probe, "httpGet", "port"])
                    .unwrap_or_else(|| panic!("{}: {probe} has no httpGet port", w.what()));
                assert_eq!(w.resolve_port(reference, &w.what()), port, "{}: {probe}'s port", w.what());
            }
        }
    }

    for s in d.of_kind("Service") {
        let selector = string_map(at(&s.doc, &["spec", "selector"]));
        let targets: Vec<&&Object> = workloads.iter().filter(|w| selects(&selector, &w.pod_labels())).collect();
        let [target] = targets[..] else { panic!("{}: selects {} workloads, not one", s.what(), targets.len()) };
        for p in list(&s.doc, &["spec", "ports"]) {
            let reference = at(p, &["targetPort"]).or_else(|| at(p, &["port"])).expect("a Service port");
            assert_eq!(target.resolve_port(reference, &s.what()), port, "{}: targetPort", s.what());
        }
    }
}

#[test]
fn probes_ask_readyz_and_healthz() {
    let d = load();
    for w in d.workloads() {
        for c in w.containers() {
            let path = |probe: &str| text(c, &[probe, "httpGet", "path"]).map(str::to_owned);
            assert_eq!(path("readinessProbe").as_deref(), Some("/readyz"), "{}: readinessProbe", w.what());
            assert_eq!(path("livenessProbe").as_deref(), Some("/healthz"), "{}: livenessProbe", w.what());
        }
    }
    let check = words(at(d.service("hezuo"), &["healthcheck", "test"]), "compose.yaml healthcheck")
        .expect("compose.yaml: hezuo has a healthcheck");
    let url = check.iter().find(|w| w.starts_with("http://")).expect("compose.yaml: the healthcheck's URL");
    assert_eq!(url_port_and_path(url, "compose.yaml healthcheck").1, "/readyz", "compose.yaml: healthcheck");
    // The healthcheck's program must be in the image: the run stage installs it.
    let program = check.iter().find(|w| !w.starts_with("CMD")).expect("compose.yaml: the healthcheck's program");
    let installs = d.containerfile.all("RUN").iter().any(|r| r.contains("apt-get install") && r.contains(program));
    assert!(installs, "compose.yaml's healthcheck runs {program}, which deploy/Containerfile does not install");
}

#[test]
fn every_container_runs_a_subcommand_the_binary_has() {
    let d = load();
    let entrypoint = d.containerfile.exec_form("ENTRYPOINT");
    assert_eq!(entrypoint, [BINARY], "Containerfile: ENTRYPOINT");
    let installed = d.containerfile.all("COPY").iter().any(|c| c.split_whitespace().next_back() == Some(BINARY));
    assert!(installed, "deploy/Containerfile copies no binary to {BINARY}");
    let cmd = d.containerfile.exec_form("CMD");
    assert_subcommand_exists(&cmd, "Containerfile CMD");

    // What a container runs: its command, or the image's ENTRYPOINT; its args, or the image's
    // CMD when it overrides neither (Kubernetes and compose agree on this).
    let runs = |command: Option<Vec<String>>, args: Option<Vec<String>>, what: &str| {
        let (program, args) = match (command, args) {
            (Some(command), args) => (command, args.unwrap_or_default()),
            (None, Some(args)) => (entrypoint.clone(), args),
            (None, None) => (entrypoint.clone(), cmd.clone()),
        };
        assert_eq!(program, [BINARY], "{what}: runs {program:?}");
        assert_subcommand_exists(&args, what);
    };
    let hezuo_service = d.service("hezuo");
    let what = "compose.yaml service hezuo";
    runs(words(at(hezuo_service, &["entrypoint"]), what), words(at(hezuo_service, &["command"]), what), what);
    let workloads = d.workloads();
    assert!(!workloads.is_empty(), "no workload in deploy/k8s");
    for w in workloads {
        for c in w.containers() {
            let what = w.what();
            runs(words(at(c, &["command"]), &what), words(at(c, &["args"]), &what), &what);
        }
    }
}

#[test]
fn nothing_runs_as_root() {
    let d = load();
    let (uid, gid) = d.containerfile.user();
    assert_ne!(uid, 0, "Containerfile: USER is root");
    assert_ne!(gid, Some(0), "Containerfile: USER's group is root");
    for w in d.workloads() {
        let pod = w.pod().and_then(|p| p.get("securityContext"));
        for c in w.containers() {
            let own = c.get("securityContext");
            // A container's own setting wins over the pod's.
            let setting = |key: &str| own.and_then(|s| s.get(key)).or_else(|| pod.and_then(|s| s.get(key)));
            let what = w.what();
            assert_eq!(setting("runAsNonRoot").and_then(Value::as_bool), Some(true), "{what}: runAsNonRoot");
            if let Some(user) = setting("runAsUser") {
                assert_eq!(user.as_u64(), Some(u64::from(uid)), "{what}: runAsUser is the image's user");
            }
            let own_flag = |key: &str| own.and_then(|s| s.get(key)).and_then(Value::as_bool);
            assert_eq!(own_flag("allowPrivilegeEscalation"), Some(false), "{what}: allowPrivilegeEscalation");
            assert_eq!(own_flag("readOnlyRootFilesystem"), Some(true), "{what}: readOnlyRootFilesystem");
            let dropped = own.map(|s| list(s, &["capabilities", "drop"])).unwrap_or_default();
            assert!(dropped.iter().any(|cap| cap.as_str() == Some("ALL")), "{what}: capabilities not all dropped");
        }
    }
}

#[test]
fn the_sqlite_variant_is_one_pod_with_its_database_on_its_volume() {
    let d = load();
    let set = d.only("StatefulSet");
    let what = set.what();
    assert_eq!(at(&set.doc, &["spec", "replicas"]).and_then(Value::as_u64), Some(1), "{what}: replicas");
    let claims: Vec<&str> = list(&set.doc, &["spec", "volumeClaimTemplates"])
        .iter()
        .filter_map(|t| text(t, &["metadata", "name"]))
        .collect();
    for c in set.containers() {
        let url = container_env(c).remove("HEZUO_DATABASE_URL").unwrap_or_else(|| panic!("{what}: HEZUO_DATABASE_URL"));
        let file = url.strip_prefix("sqlite://").unwrap_or_else(|| panic!("{what}: {url:?} is not SQLite"));
        let file = Path::new(file.split('?').next().unwrap_or_default());
        let dir = file.parent().unwrap_or_else(|| panic!("{what}: {url:?} has no directory"));
        assert!(file.is_absolute(), "{what}: {url:?} is not an absolute path");
        let on_claim = list(c, &["volumeMounts"]).iter().any(|m| {
            text(m, &["mountPath"]).map(Path::new) == Some(dir)
                && text(m, &["name"]).is_some_and(|name| claims.contains(&name))
        });
        assert!(on_claim, "{what}: {} is not on a volume of its volumeClaimTemplates {claims:?}", dir.display());
    }
    // Every other workload runs on PostgreSQL, whose URL is in the Secret.
    let secret = d.only("Secret");
    let url = text(&secret.doc, &["stringData", "HEZUO_DATABASE_URL"]).expect("Secret: HEZUO_DATABASE_URL");
    assert!(url.starts_with("postgres://"), "{}: HEZUO_DATABASE_URL {url:?} is not PostgreSQL", secret.what());
}

#[test]
fn names_and_labels_refer_to_what_exists() {
    let d = load();
    let (config_maps, secrets, services) = (d.named("ConfigMap"), d.named("Secret"), d.named("Service"));
    let keys = |o: &Object| -> BTreeSet<String> {
        ["data", "stringData"].into_iter().flat_map(|f| string_map(at(&o.doc, &[f])).into_keys()).collect()
    };

    for o in &d.k8s {
        if o.kind() != "Kustomization" {
            let labels = string_map(at(&o.doc, &["metadata", "labels"]));
            assert_eq!(labels.get(NAME_LABEL.0).map(String::as_str), Some(NAME_LABEL.1), "{}: labels", o.what());
        }
    }
    for w in d.workloads() {
        let what = w.what();
        let selector = string_map(at(&w.doc, &["spec", "selector", "matchLabels"]));
        assert!(selects(&selector, &w.pod_labels()), "{what}: the selector does not pick its own pods");
        assert_eq!(w.pod_labels().get(NAME_LABEL.0).map(String::as_str), Some(NAME_LABEL.1), "{what}: pod labels");
        for c in w.containers() {
            for from in list(c, &["envFrom"]) {
                if let Some(name) = text(from, &["configMapRef", "name"]) {
                    assert!(config_maps.contains_key(name), "{what}: no ConfigMap {name}");
                }
                if let Some(name) = text(from, &["secretRef", "name"]) {
                    assert!(secrets.contains_key(name), "{what}: no Secret {name}");
                }
            }
            for e in list(c, &["env"]) {
                for (field, objects) in [("secretKeyRef", &secrets), ("configMapKeyRef", &config_maps)] {
                    let Some(r) = at(e, &["valueFrom", field]) else { continue };
                    let (name, key) = (text(r, &["name"]).unwrap_or(""), text(r, &["key"]).unwrap_or(""));
                    let optional = at(r, &["optional"]).and_then(Value::as_bool) == Some(true);
                    match objects.get(name).copied() {
                        Some(o) => assert!(keys(o).contains(key), "{what}: {name} has no key {key}"),
                        None => assert!(optional, "{what}: {field} to {name}, which does not exist"),
                    }
                }
            }
        }
    }
    let set = d.only("StatefulSet");
    let service_name = text(&set.doc, &["spec", "serviceName"]).unwrap_or("");
    assert!(services.contains_key(service_name), "{}: serviceName {service_name:?} is no Service", set.what());

    let deployment = d.only("Deployment");
    let pdb = d.only("PodDisruptionBudget");
    let selector = string_map(at(&pdb.doc, &["spec", "selector", "matchLabels"]));
    assert!(selects(&selector, &deployment.pod_labels()), "{}: does not select the Deployment", pdb.what());
    assert!(!selects(&selector, &set.pod_labels()), "{}: also selects the StatefulSet", pdb.what());

    // The kustomization is the PostgreSQL variant: every file but the SQLite one.
    let kustomization = d.only("Kustomization");
    let resources: BTreeSet<&str> = list(&kustomization.doc, &["resources"]).iter().filter_map(Value::as_str).collect();
    let expected: BTreeSet<&str> = d
        .k8s_files
        .iter()
        .map(String::as_str)
        .filter(|f| !["kustomization.yaml", "statefulset-sqlite.yaml"].contains(f))
        .collect();
    assert_eq!(resources, expected, "kustomization.yaml's resources");
}
