//! Parse time of the bundled c302 D1 connectome (302 cells, 306 files, 6 MB of XML).
//!
//! `cargo bench -p neuroml --bench parse` prints our best and median time over repeated
//! loads and, when Python's libNeuroML is installed (`pip install pyneuroml`), the time
//! libNeuroML takes to read the same network with its includes, measured in the same run,
//! and the ratio.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("models/c302_D1");
    let lems = root.join("LEMS_c302_D1.xml");
    let mut times = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let model = neuroml::load(&lems).expect("bundled model loads");
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(model.summary().cells, 302);
    }
    times.sort_by(f64::total_cmp);
    let (best, median) = (times[0], times[times.len() / 2]);
    println!(
        "neuroml::load(LEMS_c302_D1.xml): best {:.1} ms, median {:.1} ms (10 runs)",
        best * 1e3,
        median * 1e3
    );

    let script = "import sys, time\nfrom neuroml import loaders\nt = time.perf_counter()\n\
                  loaders.read_neuroml2_file(sys.argv[1], include_includes=True, verbose=False)\n\
                  print(time.perf_counter() - t)";
    let peer = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(root.join("c302_D1.net.nml"))
        .output();
    match peer {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            if let Ok(seconds) = text.trim().lines().last().unwrap_or("").parse::<f64>() {
                println!("libNeuroML read_neuroml2_file(c302_D1.net.nml, include_includes=True): {:.1} ms", seconds * 1e3);
                println!(
                    "ratio (libNeuroML / ours, median): {:.1}x",
                    seconds / median
                );
            }
        }
        _ => println!("libNeuroML not available (pip install pyneuroml): peer not timed"),
    }
}
