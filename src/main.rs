//! Temporary thin binary (replaced by the full CLI).
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "render" {
        let (root, rel) = match kustodian::source::repo_root_for(std::path::Path::new(&args[2])) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        };
        let fs = match kustodian::source::DiskFs::new(&root) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        };
        let sources = kustodian::source::Sources::new();
        let r = kustodian::render::Renderer::new(Arc::new(fs), sources.clone());
        match r.build(&rel) {
            Ok(b) => print!("{}", kustodian::render::to_yaml(&b.resources)),
            Err(e) => {
                eprintln!("error: {} at {}", e.message, sources.describe(e.loc));
                std::process::exit(2);
            }
        }
    }
}
