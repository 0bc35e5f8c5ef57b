//! The image's tags, and the refusal of tags two images of one run would share.

use super::*;

/// One error for each set of images that would get the same tags.
pub(super) fn shared_tags(spec: &Spec, plans: &[Plan]) -> Vec<Diagnostic> {
    let mut owners: BTreeMap<String, (&str, Vec<usize>)> = BTreeMap::new();
    for (index, plan) in plans.iter().enumerate() {
        for tag in plan.targets.iter().flat_map(|target| &target.tags) {
            let (_, images) = owners.entry(as_engine_names(tag)).or_insert((tag, Vec::new()));
            if images.last() != Some(&index) {
                images.push(index);
            }
        }
    }
    let mut groups: BTreeMap<Vec<usize>, Vec<String>> = BTreeMap::new();
    for (tag, images) in owners.into_values().filter(|(_, images)| images.len() > 1) {
        groups.entry(images).or_default().push(format!("`{tag}`"));
    }
    groups
        .into_iter()
        .map(|(images, tags)| {
            let names: Vec<String> =
                images.iter().map(|&i| format!("`{}` (package `{}`)", plans[i].binary, plans[i].package)).collect();
            let message = format!(
                "the images of {} would get the same {} {}: each build would take them from the one before",
                and_list(&names),
                if tags.len() == 1 { "tag" } else { "tags" },
                and_list(&tags)
            );
            // Where the shared name was set, else where the first image's tags were.
            let settings = &spec.images[images[0]].settings;
            let origin = match (&settings.name, &settings.tags) {
                (Some(name), _) => name.origin.clone(),
                (None, Some(tags)) => tags.origin.clone(),
                (None, None) => Origin::Derived,
            };
            Diagnostic::error(origin, message, "names more than one image").with_help(
                "give each image its own `name`: in each package's table, or per binary in [package.metadata.containerize.bin.<name>]",
            )
        })
        .collect()
}

/// A reference as the engine stores it, so that `app`, `app:latest` and
/// `docker.io/library/app:latest` compare equal.
pub(super) fn as_engine_names(reference: &str) -> String {
    let (name, tag, _) = validate::image::split(reference);
    let name = name.strip_prefix("docker.io/").or_else(|| name.strip_prefix("index.docker.io/")).unwrap_or(name);
    let name = name.strip_prefix("library/").filter(|n| !n.contains('/')).unwrap_or(name);
    format!("{name}:{}", tag.unwrap_or("latest"))
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The image's tags: `--tag`'s references as given, else the configured tags (templates
/// expanded) after the name, itself after the registry prefix unless it names a registry.
pub(super) fn tags(
    package: &LocalPackage,
    image: &ImageSpec,
    options: &Options,
    revision: Option<&str>,
) -> Result<Vec<String>, Diagnostic> {
    if !options.tags.is_empty() {
        let mut tags: Vec<String> = options
            .tags
            .iter()
            .map(|t| {
                let reference = validate::image::tag_reference(t).map_err(|e| {
                    let d = Diagnostic::error(Origin::Flag("--tag"), e.message, "");
                    Diagnostic { help: e.help, ..d }
                })?;
                // What the engine will tag, as the report shows it.
                Ok(match validate::image::split(&reference) {
                    (_, Some(_), _) => reference,
                    (name, None, _) => format!("{name}:latest"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        once_each(&mut tags);
        return Ok(tags);
    }
    let name = match &image.settings.name {
        Some(set) => set.value.clone(),
        None => {
            let lowered = image.binary.to_lowercase();
            validate::image::repository(&lowered).map_err(|_| {
                Diagnostic::error(Origin::Derived, format!("binary `{}` is not a valid image name", image.binary), "")
                    .with_help("set `name` in [package.metadata.containerize], e.g. `name = \"my-app\"`")
            })?
        }
    };
    let name = match &image.settings.registry {
        Some(registry) if validate::image::domain(&name).is_none() => {
            let prefixed = format!("{}/{name}", registry.value);
            validate::image::repository(&prefixed).map_err(|e| {
                Diagnostic::error(registry.origin.clone(), e.message, "put before the image name")
                    .with_help("shorten the registry prefix or the `name`")
            })?
        }
        _ => name,
    };
    let version = package.version.replace('+', "_");
    let Some(templates) = &image.settings.tags else {
        return Ok(vec![format!("{name}:{version}"), format!("{name}:latest")]);
    };
    let mut tags = Vec::new();
    for template in &templates.value {
        let tag = expand(template, &version, revision).map_err(|e| Diagnostic {
            help: e.help,
            ..Diagnostic::error(templates.origin.clone(), e.message, "in these tags")
        })?;
        tags.push(format!("{name}:{tag}"));
    }
    once_each(&mut tags);
    Ok(tags)
}

/// A tag template with its placeholders replaced (see [`validate::image::TAG_PLACEHOLDERS`]);
/// `revision` as [`crate::project::Vcs::short`] gives it.
pub(super) fn expand(template: &str, version: &str, revision: Option<&str>) -> validate::Checked<String> {
    let mut tag = template.replace("{version}", version);
    if tag.contains("{revision}") {
        let Some(revision) = revision else {
            return Err(validate::Invalid {
                message: format!("tag `{template}` needs the git revision, but the project is not in a git checkout"),
                help: Some("commit the project to git, or leave `{revision}` out of `tags`".into()),
            });
        };
        tag = tag.replace("{revision}", revision);
    }
    validate::image::tag(&tag)
}

/// Keeps the first of tags named twice (`-t app -t app:latest`): one tag, applied once.
pub(super) fn once_each(tags: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    tags.retain(|t| seen.insert(t.clone()));
}

/// The debug image's references: each of the runtime's with [`DEBUG_TAG_SUFFIX`] added to its
/// tag (`app:1.0.0-debug`, `app:latest-debug`).
pub(super) fn debug_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|reference| match validate::image::split(reference) {
            (name, Some(tag), _) => format!("{name}:{tag}{DEBUG_TAG_SUFFIX}"),
            (name, None, _) => format!("{name}:latest{DEBUG_TAG_SUFFIX}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn templates_expand_to_tags() {
        let revision = Some("0123456");
        assert_eq!(expand("{version}", "1.2.0_build.5", revision).unwrap(), "1.2.0_build.5");
        assert_eq!(expand("{revision}", "1.2.0", revision).unwrap(), "0123456");
        assert_eq!(expand("v{version}-{revision}", "1.2.0", revision).unwrap(), "v1.2.0-0123456");
        assert_eq!(expand("{revision}", "1.2.0", Some("0123456-dirty")).unwrap(), "0123456-dirty");
        assert_eq!(expand("latest", "1.2.0", None).unwrap(), "latest");
        let outside_git = expand("{revision}", "1.2.0", None).unwrap_err();
        assert!(outside_git.message.contains("not in a git checkout"), "{}", outside_git.message);
        assert!(
            expand(&format!("{}{{version}}", "a".repeat(124)), "1.2.0", revision).is_err(),
            "too long once expanded"
        );
    }
}
