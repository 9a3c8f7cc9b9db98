//! What the figures were measured on, printed with them and saved in the JSON.

use std::fs;
use std::process::Command;

#[derive(Debug)]
pub struct Machine {
    /// Cores this process may use (what `nproc` prints).
    pub nproc: usize,
    pub cpu: String,
    pub kernel: String,
    pub mem_total_mib: u64,
}

impl std::fmt::Display for Machine {
    /// The line each bench prints: `2 cores, <cpu>, <n> MiB RAM, <kernel>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cores, {}, {} MiB RAM, {}",
            self.nproc, self.cpu, self.mem_total_mib, self.kernel
        )
    }
}

pub fn describe() -> Machine {
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".to_owned(), |s| format!("Linux {}", s.trim()));
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_total_mib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024);
    Machine {
        nproc,
        cpu,
        kernel,
        mem_total_mib,
    }
}

/// The first line a tool prints for `--version` (some print it on stderr), or `unknown`.
pub fn tool_version(tool: &str) -> String {
    Command::new(tool)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
