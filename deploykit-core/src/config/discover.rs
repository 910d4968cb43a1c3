//! Where `deploykit.toml` is found: `--config FILE`, else `DEPLOYKIT_CONFIG`, else
//! `./deploykit.toml`, else `$XDG_CONFIG_HOME/deploykit/deploykit.toml`, else
//! `~/.config/deploykit/deploykit.toml`; with none of them the built-in defaults apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::layers::CONFIG_ENV;

/// The file name looked for.
pub const FILE_NAME: &str = "deploykit.toml";

/// The candidate files in order, given the `--config` flag, the environment and the
/// current directory. An explicit file (flag or `DEPLOYKIT_CONFIG`) is the only candidate.
pub fn candidates(flag: Option<&Path>, env: &BTreeMap<String, String>, cwd: &Path) -> Vec<PathBuf> {
    if let Some(path) = flag {
        return vec![path.to_path_buf()];
    }
    if let Some(path) = env.get(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(path)];
    }
    let mut out = vec![cwd.join(FILE_NAME)];
    if let Some(xdg) = env.get("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        out.push(Path::new(xdg).join("deploykit").join(FILE_NAME));
    }
    if let Some(home) = env.get("HOME").filter(|p| !p.is_empty()) {
        out.push(
            Path::new(home)
                .join(".config")
                .join("deploykit")
                .join(FILE_NAME),
        );
    }
    out
}

/// The configuration file to read: an explicit one even if missing (so reading it fails
/// clearly), else the first candidate that exists, else none (defaults).
pub fn find_config_file(
    flag: Option<&Path>,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> Option<PathBuf> {
    let explicit = flag.is_some() || env.get(CONFIG_ENV).is_some_and(|p| !p.is_empty());
    let list = candidates(flag, env, cwd);
    if explicit {
        return list.into_iter().next();
    }
    list.into_iter().find(|p| p.is_file())
}

/// Finds and reads the configuration with the process environment: what the CLI calls.
pub fn load(
    flag: Option<&Path>,
    flags: &BTreeMap<String, String>,
) -> crate::Result<super::EffectiveConfig> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let file = find_config_file(flag, &env, &cwd);
    super::effective::resolve_file_saying(file.as_deref(), &env, flags, what_to_do(flag, &env))
}

/// What to do when the configuration file cannot be read: `--config FILE` helps only when
/// the file was not named by it.
fn what_to_do(flag: Option<&Path>, env: &BTreeMap<String, String>) -> &'static str {
    if flag.is_some() {
        "check the path"
    } else if env.get(CONFIG_ENV).is_some_and(|p| !p.is_empty()) {
        "check the path DEPLOYKIT_CONFIG names, or pass --config FILE"
    } else {
        "check the path and its permissions, or pass --config FILE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_cwd_then_xdg_then_home() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cwd = dir.path().join("work");
        let xdg = dir.path().join("xdg");
        let home = dir.path().join("home");
        let env = BTreeMap::from([
            ("XDG_CONFIG_HOME".to_string(), xdg.display().to_string()),
            ("HOME".to_string(), home.display().to_string()),
        ]);
        assert_eq!(find_config_file(None, &env, &cwd), None);
        let home_file = home.join(".config/deploykit/deploykit.toml");
        std::fs::create_dir_all(home_file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&home_file, "").expect("write");
        assert_eq!(find_config_file(None, &env, &cwd), Some(home_file));
        let xdg_file = xdg.join("deploykit/deploykit.toml");
        std::fs::create_dir_all(xdg_file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&xdg_file, "").expect("write");
        assert_eq!(find_config_file(None, &env, &cwd), Some(xdg_file));
        std::fs::create_dir_all(&cwd).expect("mkdir");
        std::fs::write(cwd.join(FILE_NAME), "").expect("write");
        assert_eq!(
            find_config_file(None, &env, &cwd),
            Some(cwd.join(FILE_NAME))
        );
        let explicit = dir.path().join("missing.toml");
        assert_eq!(
            find_config_file(Some(&explicit), &env, &cwd),
            Some(explicit)
        );
    }
}
