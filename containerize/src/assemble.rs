//! The reproducible runtime image (`--reproducible`): assembled by the tool, as ko, Jib and
//! nix2container assemble theirs, because the engine's own build of the runtime stage (Docker
//! 20.10, BuildKit 0.8) stamps build times into the image config.
//!
//! 1. The export stage ([`containerize_build::plan::ExportStage`]) holds the runtime stage's own
//!    files (CA certificates, the binary, the staged `include` files) at their runtime paths
//!    under [`ASSEMBLY_ROOT`]; it is taken out of the builder as `--output` takes the binary
//!    (`export.rs`).
//! 2. Those files become one layer, written deterministically (`layer`): entries sorted by
//!    path, parent directories made explicit, owner 0:0 with no names, every mtime
//!    `SOURCE_DATE_EPOCH`, modes as the builder left them, no extended headers.
//! 3. The base image's layers are used as they are (`docker save` of the base, from the
//!    engine); none for `scratch`.
//! 4. The config is written here (`config`): the base's config with the runtime stage's
//!    instructions applied as the engine applies them (`ENV`, `LABEL`, `EXPOSE`, `STOPSIGNAL`,
//!    `HEALTHCHECK`, `ENTRYPOINT` (which drops the base's `CMD`), `CMD`, `VOLUME`, `WORKDIR`,
//!    `USER`; and the default `PATH` that `FROM` gives a base without one), `created` and our history entry at `SOURCE_DATE_EPOCH`, and the diff ids of
//!    the base's layers and ours.
//! 5. A docker-archive (what `docker load` reads) of config and layers is loaded into the
//!    engine; the image id is the sha256 of the config's bytes, known before loading, and is
//!    then tagged as a built image is (all tags or none).
//!
//! The binary itself is the same from any clone: the builder compiles at fixed paths
//! (`/build`, `/usr/local/cargo`) whatever the checkout's path on the host, so no host path
//! can reach it. The Dockerfile keeps its runtime stage: `--target runtime` (or `--print`
//! without `--reproducible`) builds the same contents with the engine, with the engine's
//! timestamps.

use crate::engine::{Engine, EngineError};
use crate::error::Error;
use crate::export::{self, stage_path};
use crate::image::{self, Built, ImageBuild, Progress};
use crate::interrupt::Interruption;
use containerize_build::plan::{ASSEMBLY_ROOT, Assembly, RuntimeStage, stage};
use containerize_build::validate;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read};

/// The PATH the engine gives a stage whose base sets none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the tool writes into the history of the images it assembles.
const CREATED_BY: &str = "cargo-containerize: the runtime stage's files (binary, CA certificates, include)";

/// Builds the export stage of `image_build`, assembles the image from it and the base, loads it
/// and tags it: every tag, or none.
pub async fn assemble(
    engine: &impl Engine,
    image_build: ImageBuild<'_>,
    runtime: &RuntimeStage,
    assembly: &Assembly,
    progress: &mut impl Progress,
    interruption: &Interruption,
) -> Result<Built, Error> {
    let (binary, tags) = (image_build.binary.to_owned(), image_build.tags);
    let credentials = image_build.credentials.clone();
    // For BuildKit's exporter; removed whatever happens.
    let staging = tempfile::Builder::new().prefix("containerize-assemble.").tempdir().map_err(Error::Output)?;
    let root = ASSEMBLY_ROOT.trim_start_matches('/');
    let fetched = export::fetch(engine, image_build, &[root], staging.path(), progress, interruption).await?;
    let mut files = Vec::new();
    for tar in &fetched.tars {
        files.extend(entries(tar, root).map_err(Error::Output)?);
    }
    let ours = layer(files, &assembly.directories, assembly.source_date_epoch).map_err(Error::Output)?;
    let base = match runtime.base.as_str() {
        "scratch" => Base::default(),
        base => {
            // A build that stops before the runtime stage (BuildKit's) has not pulled it.
            image::pull_if_missing(engine, base, &credentials, interruption).await?;
            let saved = engine.save(base).await?;
            Base::read(&saved).map_err(Error::Output)?
        }
    };
    let config = config(&base.config, runtime, assembly, &base.layers, &ours);
    let id = format!("sha256:{}", sha256_hex(&config));
    if interruption.happened() {
        return Err(EngineError::Interrupted.into());
    }
    // Not abandoned midway: an image loaded unseen would be left untagged.
    engine.load(archive(&config, base.layers.iter().chain([&ours]))).await?;
    let info = engine.inspect(&id).await?;
    image::tag_all(engine, &id, tags, interruption).await?;
    Ok(Built {
        binary,
        stage: stage::RUNTIME.to_owned(),
        id,
        tags: tags.to_vec(),
        size: info.size,
        context_bytes: fetched.context_bytes,
    })
}

/// A file, directory or link of the layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// A regular file's bytes.
    File(Vec<u8>),
    /// A directory.
    Directory,
    /// A symbolic link's target.
    Link(String),
}

/// An entry of the layer: its path (relative, no leading `/`), mode and content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) path: String,
    pub(crate) mode: u32,
    pub(crate) content: Content,
}

/// The entries of `tar` below `root` (a path from the stage's root), with paths relative to it.
pub(crate) fn entries(tar: &[u8], root: &str) -> io::Result<Vec<Entry>> {
    let mut archive = tar::Archive::new(tar);
    let mut found = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = stage_path(&entry.path()?).to_string_lossy().into_owned();
        let Some(path) = path.strip_prefix(root).and_then(|p| p.strip_prefix('/')) else {
            continue;
        };
        let path = path.trim_end_matches('/').to_owned();
        if path.is_empty() {
            continue;
        }
        let header = entry.header();
        let mode = header.mode()? & 0o7777;
        let content = match header.entry_type() {
            tar::EntryType::Directory => Content::Directory,
            tar::EntryType::Symlink => {
                Content::Link(header.link_name()?.map(|l| l.to_string_lossy().into_owned()).unwrap_or_default())
            }
            kind if kind.is_file() => {
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                Content::File(data)
            }
            kind => {
                return Err(io::Error::other(format!(
                    "`{path}` is a {kind:?}, which an image layer here may not hold"
                )));
            }
        };
        found.push(Entry { path, mode, content });
    }
    Ok(found)
}

/// One layer, deterministically: `entries` and `directories` (absolute paths), with every
/// parent directory, sorted by path, owned by 0:0 with no user or group names, every time
/// `epoch`. The same entries give the same bytes.
pub(crate) fn layer(entries: Vec<Entry>, directories: &[String], epoch: i64) -> io::Result<Vec<u8>> {
    let mut all: BTreeMap<String, Entry> = BTreeMap::new();
    let directory = |path: &str| Entry { path: path.to_owned(), mode: 0o755, content: Content::Directory };
    for dir in directories {
        let path = dir.trim_matches('/');
        if !path.is_empty() {
            all.insert(path.to_owned(), directory(path));
        }
    }
    for entry in entries {
        all.insert(entry.path.clone(), entry);
    }
    let parents: Vec<String> = all
        .keys()
        .flat_map(|path| path.match_indices('/').map(|(end, _)| path[..end].to_owned()).collect::<Vec<_>>())
        .collect();
    for parent in parents {
        all.entry(parent.clone()).or_insert_with(|| directory(&parent));
    }
    let mtime = u64::try_from(epoch).unwrap_or(0);
    let mut tar = tar::Builder::new(Vec::new());
    for entry in all.values() {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_mode(entry.mode);
        match &entry.content {
            Content::File(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                tar.append_data(&mut header, &entry.path, data.as_slice())?;
            }
            Content::Directory => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                tar.append_data(&mut header, format!("{}/", entry.path), io::empty())?;
            }
            Content::Link(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                tar.append_link(&mut header, &entry.path, target)?;
            }
        }
    }
    tar.into_inner()
}

/// The base image as `docker save` gives it: its config and its layers' tars, in order.
#[derive(Debug, Default)]
pub(crate) struct Base {
    pub(crate) config: Option<Value>,
    pub(crate) layers: Vec<Vec<u8>>,
}

impl Base {
    /// Reads a docker-archive of one image.
    pub(crate) fn read(saved: &[u8]) -> io::Result<Base> {
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut links: BTreeMap<String, String> = BTreeMap::new();
        let mut archive = tar::Archive::new(saved);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = stage_path(&entry.path()?).to_string_lossy().into_owned();
            if entry.header().entry_type().is_symlink() {
                // `docker save` links a layer that appears twice to its first copy.
                let target = entry.link_name()?.map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
                let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
                let resolved = std::path::Path::new(dir).join(target);
                let resolved: std::path::PathBuf = resolved.components().fold(std::path::PathBuf::new(), |mut p, c| {
                    match c {
                        std::path::Component::ParentDir => {
                            p.pop();
                        }
                        std::path::Component::Normal(n) => p.push(n),
                        _ => {}
                    }
                    p
                });
                links.insert(path, resolved.to_string_lossy().into_owned());
            } else if entry.header().entry_type().is_file() {
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                files.insert(path, data);
            }
        }
        let file = |path: &str| {
            let path = links.get(path).map_or(path, String::as_str);
            files.get(path).ok_or_else(|| io::Error::other(format!("the saved base image has no `{path}`")))
        };
        let manifest: Value = serde_json::from_slice(file("manifest.json")?)?;
        let image = manifest.get(0).ok_or_else(|| io::Error::other("the saved base image lists no image"))?;
        let config: Value = serde_json::from_slice(file(image["Config"].as_str().unwrap_or_default())?)?;
        let layers = image["Layers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|layer| file(layer.as_str().unwrap_or_default()).cloned())
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Base { config: Some(config), layers })
    }
}

/// `sha256` of `bytes`, in hex.
fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The image config: the base's (none for scratch) with the runtime stage's settings applied
/// as the engine applies the Dockerfile's instructions, every time `SOURCE_DATE_EPOCH`, and
/// the diff ids of `base_layers` and `ours`. Serialized once, compactly: its sha256 is the
/// image id.
pub(crate) fn config(
    base: &Option<Value>,
    runtime: &RuntimeStage,
    assembly: &Assembly,
    base_layers: &[Vec<u8>],
    ours: &[u8],
) -> Vec<u8> {
    let base = base.clone().unwrap_or_else(|| json!({}));
    let created = &assembly.created;
    let mut c: Map<String, Value> = base["config"].as_object().cloned().unwrap_or_default();
    // ENV: each variable replaces one of the same name, in place, or comes last.
    let mut env: Vec<String> = c
        .get("Env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    // `FROM` gives a stage the default PATH when its base has none (both builders do).
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(DEFAULT_PATH.to_owned());
    }
    for (name, value) in &runtime.env {
        let pair = format!("{name}={value}");
        match env.iter_mut().find(|e| e.split_once('=').map_or(e.as_str(), |(n, _)| n) == name) {
            Some(existing) => *existing = pair,
            None => env.push(pair),
        }
    }
    set(&mut c, "Env", (!env.is_empty()).then(|| json!(env)));
    let mut labels = c.get("Labels").and_then(Value::as_object).cloned().unwrap_or_default();
    labels.extend(runtime.labels.iter().map(|(k, v)| (k.clone(), json!(v))));
    set(&mut c, "Labels", (!labels.is_empty()).then_some(Value::Object(labels)));
    let mut exposed = c.get("ExposedPorts").and_then(Value::as_object).cloned().unwrap_or_default();
    exposed.extend(runtime.expose.iter().map(|p| (p.to_string(), json!({}))));
    set(&mut c, "ExposedPorts", (!exposed.is_empty()).then_some(Value::Object(exposed)));
    if let Some(signal) = &runtime.stop_signal {
        set(&mut c, "StopSignal", Some(json!(signal)));
    }
    if let Some(check) = &runtime.healthcheck {
        let nanos = |d: &Option<String>| d.as_deref().and_then(validate::millis).map(|ms| ms * 1_000_000);
        let mut health = Map::new();
        let test: Vec<String> = ["CMD".to_owned()].into_iter().chain(check.command.iter().cloned()).collect();
        health.insert("Test".into(), json!(test));
        for (key, value) in [
            ("Interval", nanos(&check.timing.interval)),
            ("Timeout", nanos(&check.timing.timeout)),
            ("StartPeriod", nanos(&check.timing.start_period)),
        ] {
            if let Some(value) = value {
                health.insert(key.into(), json!(value));
            }
        }
        if let Some(retries) = check.timing.retries {
            health.insert("Retries".into(), json!(retries));
        }
        set(&mut c, "Healthcheck", Some(Value::Object(health)));
    }
    // ENTRYPOINT drops the base's CMD; CMD, when set, comes after it.
    set(&mut c, "Entrypoint", Some(json!(runtime.entrypoint)));
    set(&mut c, "Cmd", (!runtime.cmd.is_empty()).then(|| json!(runtime.cmd)));
    let mut volumes = c.get("Volumes").and_then(Value::as_object).cloned().unwrap_or_default();
    volumes.extend(runtime.volumes.iter().map(|v| (v.clone(), json!({}))));
    set(&mut c, "Volumes", (!volumes.is_empty()).then_some(Value::Object(volumes)));
    if let Some(workdir) = &runtime.workdir {
        set(&mut c, "WorkingDir", Some(json!(workdir)));
    }
    set(&mut c, "User", Some(json!(runtime.user)));
    // Triggers are the base's to run in the build that uses it: ours has run none.
    c.remove("OnBuild");

    let mut history: Vec<Value> = base["history"].as_array().cloned().unwrap_or_default();
    history.push(json!({ "created": created, "created_by": CREATED_BY }));
    let mut diff_ids: Vec<Value> =
        base_layers.iter().map(|layer| json!(format!("sha256:{}", sha256_hex(layer)))).collect();
    diff_ids.push(json!(format!("sha256:{}", sha256_hex(ours))));

    let mut image = Map::new();
    image.insert("architecture".into(), base.get("architecture").cloned().unwrap_or(json!(assembly.architecture)));
    if let Some(variant) = base.get("variant") {
        image.insert("variant".into(), variant.clone());
    }
    image.insert("os".into(), base.get("os").cloned().unwrap_or(json!(assembly.os)));
    image.insert("created".into(), json!(created));
    image.insert("config".into(), Value::Object(c));
    image.insert("rootfs".into(), json!({ "type": "layers", "diff_ids": diff_ids }));
    image.insert("history".into(), Value::Array(history));
    serde_json::to_vec(&Value::Object(image)).expect("a config serializes")
}

/// Sets `key`, or removes it for `None`.
fn set(config: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(value) => config.insert(key.to_owned(), value),
        None => config.remove(key),
    };
}

/// The docker-archive `docker load` reads: `manifest.json` (no tags: they are applied after,
/// all or none), the config, a tar per layer, in order.
pub(crate) fn archive<'a>(config: &[u8], layers: impl Iterator<Item = &'a Vec<u8>>) -> Vec<u8> {
    let config_name = format!("{}.json", sha256_hex(config));
    let mut files: Vec<(String, &[u8])> = vec![(config_name.clone(), config)];
    let mut names = Vec::new();
    for layer in layers {
        let name = format!("{}/layer.tar", sha256_hex(layer));
        names.push(name.clone());
        files.push((name, layer.as_slice()));
    }
    let manifest = serde_json::to_vec(&json!([{ "Config": config_name, "RepoTags": null, "Layers": names }]))
        .expect("a manifest serializes");
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in [("manifest.json".to_owned(), manifest.as_slice())].into_iter().chain(files) {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        tar.append_data(&mut header, name, data).expect("writing to memory");
    }
    tar.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::tests::{Fake, Recorder};
    use containerize_build::plan::{CaCertificates, HealthcheckPlan, ProbeTiming};
    use containerize_build::validate::{Port, Protocol};

    fn file(path: &str, mode: u32, data: &str) -> Entry {
        Entry { path: path.into(), mode, content: Content::File(data.as_bytes().to_vec()) }
    }

    fn assembly() -> Assembly {
        Assembly {
            source_date_epoch: 1_700_000_000,
            created: "2023-11-14T22:13:20Z".into(),
            os: "linux".into(),
            architecture: "amd64".into(),
            directories: vec!["/srv/data".into()],
        }
    }

    fn runtime() -> RuntimeStage {
        RuntimeStage {
            base: "scratch".into(),
            packages: vec![],
            install: None,
            ca_certificates: CaCertificates::InBase,
            binary: "/usr/local/bin/app".into(),
            include: vec![],
            entrypoint: vec!["/usr/local/bin/app".into()],
            cmd: vec!["serve".into()],
            user: "65532:65532".into(),
            workdir: Some("/srv/data".into()),
            workdir_owner: Some("0:0".into()),
            env: BTreeMap::from([("PATH".into(), "/usr/local/bin".into()), ("RUST_LOG".into(), "info".into())]),
            labels: BTreeMap::from([("org.opencontainers.image.title".into(), "app".into())]),
            expose: vec![Port { number: 8080, protocol: Protocol::Tcp }],
            volumes: vec!["/srv/data".into()],
            stop_signal: Some("SIGINT".into()),
            healthcheck: Some(HealthcheckPlan {
                command: vec!["/usr/local/bin/app".into(), "--containerize-healthcheck".into()],
                timing: ProbeTiming { interval: Some("2s".into()), retries: Some(3), ..ProbeTiming::default() },
            }),
            sbom: None,
        }
    }

    /// Each entry of a tar: path, type, mode, uid, gid, user name, mtime, size.
    fn listing(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                format!(
                    "{} {:?} {:o} {}:{} '{}' {} {}",
                    e.path().unwrap().display(),
                    h.entry_type(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                    h.username().unwrap().unwrap_or_default(),
                    h.mtime().unwrap(),
                    h.size().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn the_layer_is_sorted_owned_by_root_and_timed_at_source_date_epoch_whatever_the_input_order() {
        let entries = vec![
            file("usr/local/bin/app", 0o755, "binary"),
            file("etc/ssl/certs/ca-certificates.crt", 0o644, "certificates"),
            Entry { path: "etc/app".into(), mode: 0o750, content: Content::Directory },
            Entry { path: "etc/app/current".into(), mode: 0o777, content: Content::Link("../ssl".into()) },
        ];
        let layer_bytes = layer(entries.clone(), &["/srv/data".into()], 1_700_000_000).unwrap();
        let reversed = layer(entries.into_iter().rev().collect(), &["/srv/data/".into()], 1_700_000_000).unwrap();
        assert_eq!(layer_bytes, reversed, "the same files give the same bytes");
        assert_eq!(
            listing(&layer_bytes),
            [
                "etc/ Directory 755 0:0 '' 1700000000 0",
                "etc/app/ Directory 750 0:0 '' 1700000000 0",
                "etc/app/current Symlink 777 0:0 '' 1700000000 0",
                "etc/ssl/ Directory 755 0:0 '' 1700000000 0",
                "etc/ssl/certs/ Directory 755 0:0 '' 1700000000 0",
                "etc/ssl/certs/ca-certificates.crt Regular 644 0:0 '' 1700000000 12",
                "srv/ Directory 755 0:0 '' 1700000000 0",
                "srv/data/ Directory 755 0:0 '' 1700000000 0",
                "usr/ Directory 755 0:0 '' 1700000000 0",
                "usr/local/ Directory 755 0:0 '' 1700000000 0",
                "usr/local/bin/ Directory 755 0:0 '' 1700000000 0",
                "usr/local/bin/app Regular 755 0:0 '' 1700000000 6",
            ]
        );
        // Pinned: a change here changes every assembled image's id.
        assert_eq!(sha256_hex(&layer_bytes), "0596b650ee1a21c8e613dd67493700c2a821569aefb0769c4ef1f8f3983b065d");
    }

    #[test]
    fn the_config_applies_the_runtime_stage_over_scratch_byte_for_byte() {
        let config = config(&None, &runtime(), &assembly(), &[], b"layer");
        // Keys sorted, compact: the bytes whose sha256 is the image id.
        let expected = concat!(
            r#"{"architecture":"amd64","config":{"Cmd":["serve"],"Entrypoint":["/usr/local/bin/app"],"#,
            r#""Env":["PATH=/usr/local/bin","RUST_LOG=info"],"ExposedPorts":{"8080/tcp":{}},"#,
            r#""Healthcheck":{"Interval":2000000000,"Retries":3,"Test":["CMD","/usr/local/bin/app","--containerize-healthcheck"]},"#,
            r#""Labels":{"org.opencontainers.image.title":"app"},"StopSignal":"SIGINT","User":"65532:65532","#,
            r#""Volumes":{"/srv/data":{}},"WorkingDir":"/srv/data"},"created":"2023-11-14T22:13:20Z","#,
            r#""history":[{"created":"2023-11-14T22:13:20Z","created_by":"cargo-containerize: the runtime stage's files (binary, CA certificates, include)"}],"#,
            r#""os":"linux","rootfs":{"diff_ids":["sha256:dac1d7cfa95021764849fd102524e141488c5e3a90f861dbb5a12d9ac8584f85"],"type":"layers"}}"#,
        );
        assert_eq!(String::from_utf8(config).unwrap(), expected);
        let mut without_path = runtime();
        without_path.env.remove("PATH");
        let config: Value =
            serde_json::from_slice(&super::config(&None, &without_path, &assembly(), &[], b"")).unwrap();
        assert_eq!(config["config"]["Env"], json!([DEFAULT_PATH, "RUST_LOG=info"]), "the engine's default PATH, first");
    }

    #[test]
    fn the_config_applies_the_runtime_stage_over_the_base_as_the_engine_would() {
        let base = json!({
            "architecture": "arm64", "variant": "v8", "os": "linux", "created": "2020-01-01T00:00:00Z",
            "config": {
                "Env": ["PATH=/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
                "Cmd": ["/bin/sh"], "OnBuild": ["RUN true"], "WorkingDir": "/home/nonroot",
                "Labels": { "base": "kept" }, "User": "0"
            },
            "rootfs": { "type": "layers", "diff_ids": ["sha256:old"] },
            "history": [{ "created": "2020-01-01T00:00:00Z", "created_by": "the base" }]
        });
        let mut runtime = runtime();
        runtime.cmd = vec![];
        runtime.workdir = None;
        let config: Value =
            serde_json::from_slice(&config(&Some(base), &runtime, &assembly(), &[b"base".to_vec()], b"ours")).unwrap();
        let c = &config["config"];
        assert_eq!(
            c["Env"],
            json!(["PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "RUST_LOG=info"]),
            "a variable set again keeps its place"
        );
        assert_eq!(c["Cmd"], Value::Null, "ENTRYPOINT drops the base's CMD");
        assert_eq!(c.get("OnBuild"), None);
        assert_eq!(c["WorkingDir"], "/home/nonroot", "kept where the stage sets none");
        assert_eq!(c["Labels"], json!({ "base": "kept", "org.opencontainers.image.title": "app" }));
        assert_eq!(c["User"], "65532:65532");
        assert_eq!((&config["architecture"], &config["variant"]), (&json!("arm64"), &json!("v8")));
        assert_eq!(config["created"], "2023-11-14T22:13:20Z");
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        assert_eq!(config["history"][1]["created"], "2023-11-14T22:13:20Z");
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!([format!("sha256:{}", sha256_hex(b"base")), format!("sha256:{}", sha256_hex(b"ours"))]),
            "the diff ids are the layers' own, the base's recomputed"
        );
    }

    /// A docker-archive of a base with two identical layers, the second linked to the first.
    fn saved_base() -> Vec<u8> {
        let config = br#"{"config":{"Env":["A=1"]}}"#;
        let manifest = br#"[{"Config":"c.json","RepoTags":["b:1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]"#;
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in [("manifest.json", &manifest[..]), ("c.json", &config[..]), ("l1/layer.tar", b"one")] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            tar.append_data(&mut header, name, data).unwrap();
        }
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        tar.append_link(&mut link, "l2/layer.tar", "../l1/layer.tar").unwrap();
        tar.into_inner().unwrap()
    }

    #[test]
    fn a_saved_base_is_read_with_its_linked_layers() {
        let base = Base::read(&saved_base()).unwrap();
        assert_eq!(base.config.unwrap()["config"]["Env"][0], "A=1");
        assert_eq!(base.layers, [b"one".to_vec(), b"one".to_vec()]);
    }

    /// Assembles through `fake` (BuildKit) over `base`: the image, and the one archive loaded.
    async fn assemble_over(fake: &Fake, base: &str) -> (Built, Vec<u8>) {
        let tags = ["app:1".to_owned()];
        let context = crate::context::Context::generated(vec![("Cargo.toml".to_owned(), "[package]".to_owned())]);
        let image_build = ImageBuild {
            credentials: vec![],
            binary: "app",
            dockerfile: "FROM scratch AS export\n".into(),
            context,
            target: "export",
            tags: &tags,
            buildkit: true,
            no_cache: true,
            bases: vec![],
        };
        let (mut runtime, assembly) = (runtime(), assembly());
        runtime.base = base.to_owned();
        let interruption = Interruption::manual().1;
        let built =
            assemble(fake, image_build, &runtime, &assembly, &mut Recorder::default(), &interruption).await.unwrap();
        let loaded = fake.loaded.lock().unwrap().clone();
        let [archive] = loaded.as_slice() else { panic!("one archive loaded") };
        (built, archive.clone())
    }

    /// The archive's manifest, and a file of it.
    fn manifest(archive: &[u8]) -> Value {
        serde_json::from_slice(&export::entry(archive, "manifest.json").unwrap().unwrap().0).unwrap()
    }

    #[tokio::test]
    async fn an_assembled_image_is_loaded_under_the_id_of_its_config_then_tagged() {
        let mut fake = Fake::new(vec![]);
        fake.artifacts = vec![("rootfs/usr/local/bin/app", b"binary", 0o755), ("elsewhere", b"not ours", 0o644)];
        let (built, archive) = assemble_over(&fake, "scratch").await;
        let archive = &archive;
        let manifest: Value =
            serde_json::from_slice(&export::entry(archive, "manifest.json").unwrap().unwrap().0).unwrap();
        let config_name = manifest[0]["Config"].as_str().unwrap();
        let config = export::entry(archive, config_name).unwrap().unwrap().0;
        assert_eq!(built.id, format!("sha256:{}", sha256_hex(&config)), "the image id is the config's digest");
        let layer_name = manifest[0]["Layers"][0].as_str().unwrap();
        let layer_bytes = export::entry(archive, layer_name).unwrap().unwrap().0;
        let paths: Vec<String> =
            listing(&layer_bytes).iter().map(|l| l.split(' ').next().unwrap().to_owned()).collect();
        assert_eq!(paths, ["srv/", "srv/data/", "usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/app"]);
        assert_eq!(
            fake.calls(),
            [
                "build .containerize/Dockerfile --target export --output labels []",
                "load",
                &format!("inspect {}", built.id),
                "inspect app:1",
                &format!("tag {} app:1", built.id),
            ],
            "scratch: no base to save"
        );
    }

    #[tokio::test]
    async fn a_base_the_engine_lacks_is_pulled_and_its_layers_come_first() {
        let mut fake = Fake::new(vec![]);
        fake.artifacts = vec![("rootfs/usr/local/bin/app", b"binary", 0o755)];
        fake.saved = saved_base();
        let (_, archive) = assemble_over(&fake, "base:1").await;
        let calls = fake.calls();
        assert_eq!(calls[1..4], ["inspect base:1", "pull base:1", "save base:1"], "{calls:?}");
        let layers = manifest(&archive)[0]["Layers"].clone();
        assert_eq!(layers.as_array().unwrap().len(), 3, "the base's two, then ours");
        let first = export::entry(&archive, layers[0].as_str().unwrap()).unwrap().unwrap().0;
        assert_eq!(first, b"one");
        let config_name = manifest(&archive)[0]["Config"].as_str().unwrap().to_owned();
        let config: Value = serde_json::from_slice(&export::entry(&archive, &config_name).unwrap().unwrap().0).unwrap();
        assert_eq!(config["config"]["Env"][0], "A=1", "over the base's config");
    }
}
