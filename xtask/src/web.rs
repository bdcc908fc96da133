//! `cargo xtask web`: builds the browser playground into `dist/`.
//!
//! Why not `trunk build`: trunk downloads wasm-bindgen (and wasm-opt) at build time,
//! which offline CI machines cannot do. Here wasm-bindgen runs as a library
//! (`wasm-bindgen-cli-support`, pinned to the exact wasm-bindgen in Cargo.lock, since the
//! glue must match the macro version), so the build needs nothing but cargo.
//! The root `index.html` stays Trunk's entry point; `dist/index.html` is derived from it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cmd::{self, Failure};
use crate::setup::WASM_TARGET;

/// The cargo profile: size-optimised (opt-level z, LTO, abort on panic), see Cargo.toml.
const PROFILE: &str = "wasm-release";
/// The size budget for the gzipped wasm; going over it is reported, not fatal.
const BUDGET_GZIP_BYTES: u64 = 400 * 1024;

/// Builds `warren-web` for wasm, generates the JS glue, and fills `dist/`.
pub fn web(root: &Path) -> Result<(), Failure> {
    let mut build = cmd::cargo(root);
    build.args([
        "build",
        "-p",
        "warren-web",
        "--lib",
        "--target",
        WASM_TARGET,
        "--profile",
        PROFILE,
    ]);
    cmd::run(&mut build)?;

    let wasm = target_dir(root)
        .join(WASM_TARGET)
        .join(PROFILE)
        .join("warren_web.wasm");
    let dist = root.join("dist");
    fs::create_dir_all(&dist).map_err(|e| io_failure("create", &dist, &e))?;

    println!(
        "$ wasm-bindgen --target web --out-name warren_web --out-dir dist {}",
        wasm.display()
    );
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .and_then(|b| {
            b.out_name("warren_web")
                .typescript(false)
                // The library defaults to omitting it (the CLI does not): without it,
                // `init()` with no argument cannot find `warren_web_bg.wasm`.
                .omit_default_module_path(false)
                .remove_name_section(true)
                .remove_producers_section(true)
                .generate(&dist)
        })
        .map_err(|e| Failure(format!("wasm-bindgen failed on {}: {e:#}", wasm.display())))?;

    let page = fs::read_to_string(root.join("index.html"))
        .map_err(|e| io_failure("read", &root.join("index.html"), &e))?;
    let page = dist_page(&page)?;
    write(&dist.join("index.html"), page.as_bytes())?;
    let css = root.join("web/style.css");
    fs::copy(&css, dist.join("style.css")).map_err(|e| io_failure("copy", &css, &e))?;

    copy_tutorials(root, &dist)?;
    // "Export as pika script" fetches the script's runtime rather than linking it in.
    let runtime = root.join("core/src/scenario/pika_runtime.py");
    fs::copy(&runtime, dist.join("pika_runtime.py"))
        .map_err(|e| io_failure("copy", &runtime, &e))?;

    let built = dist.join("warren_web_bg.wasm");
    let bytes = fs::read(&built).map_err(|e| io_failure("read", &built, &e))?;
    let gzipped = gzip_len(&bytes)?;
    println!(
        "dist/ ready: warren_web_bg.wasm is {} KB, {} KB gzipped (budget {} KB){}",
        bytes.len() / 1024,
        gzipped / 1024,
        BUDGET_GZIP_BYTES / 1024,
        if gzipped > BUDGET_GZIP_BYTES {
            " — OVER BUDGET"
        } else {
            ""
        }
    );
    Ok(())
}

/// Copies each lesson's text and scenario to `dist/tutorials/NN-slug/`: the playground
/// fetches them when a lesson is opened, rather than carrying ~40 KB (gzipped) of
/// lessons in the wasm (the index of lessons is compiled in by `web/build.rs`).
fn copy_tutorials(root: &Path, dist: &Path) -> Result<(), Failure> {
    let src = root.join("tutorials");
    let entries = fs::read_dir(&src).map_err(|e| io_failure("read", &src, &e))?;
    let mut copied = 0;
    for entry in entries.filter_map(Result::ok) {
        let dir = entry.path();
        if !dir.join("scenario.json").is_file() {
            continue;
        }
        let out = dist.join("tutorials").join(entry.file_name());
        fs::create_dir_all(&out).map_err(|e| io_failure("create", &out, &e))?;
        for file in ["lesson.en.md", "lesson.zh.md", "scenario.json"] {
            let from = dir.join(file);
            if from.is_file() {
                fs::copy(&from, out.join(file)).map_err(|e| io_failure("copy", &from, &e))?;
            }
        }
        copied += 1;
    }
    println!("dist/tutorials: {copied} lessons");
    Ok(())
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` if set, else `target/` in the workspace.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The root `index.html` without Trunk's `data-trunk` links, loading the built files instead.
fn dist_page(page: &str) -> Result<String, Failure> {
    let mut out = String::new();
    let mut inserted = false;
    for line in page.lines() {
        // Only Trunk's own tags go; a comment that mentions them is kept intact.
        let tag = line.trim_start();
        if tag.starts_with('<') && !tag.starts_with("<!--") && tag.contains("data-trunk") {
            continue;
        }
        if line.trim() == "</head>" {
            out.push_str("    <link rel=\"stylesheet\" href=\"style.css\" />\n");
            out.push_str(
                "    <script type=\"module\">import init from './warren_web.js'; init();</script>\n",
            );
            inserted = true;
        }
        out.push_str(line);
        out.push('\n');
    }
    if inserted {
        Ok(out)
    } else {
        Err(Failure(
            "index.html has no line `</head>` to put the script before".to_string(),
        ))
    }
}

fn gzip_len(bytes: &[u8]) -> Result<u64, Failure> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map(|out| out.len() as u64)
        .map_err(|e| Failure(format!("gzip: {e}")))
}

fn write(path: &Path, contents: &[u8]) -> Result<(), Failure> {
    fs::write(path, contents).map_err(|e| io_failure("write", path, &e))
}

fn io_failure(what: &str, path: &Path, err: &std::io::Error) -> Failure {
    Failure(format!("cannot {what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::dist_page;

    #[test]
    fn dist_page_swaps_trunk_links_for_the_module_script() {
        let page = "<html>\n<head>\n<!-- data-trunk\n data-trunk -->\n<link data-trunk rel=\"rust\" />\n</head>\n</html>\n";
        let out = dist_page(page).unwrap();
        assert!(!out.contains("<link data-trunk"));
        assert!(out.contains(" data-trunk -->"));
        assert!(out.contains("import init from './warren_web.js'; init();"));
        assert!(out.contains("href=\"style.css\""));
        assert!(dist_page("<html></html>").is_err());
    }
}
