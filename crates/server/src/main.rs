//! The `frontdesk` binary: a thin shell over `frontdesk_server::cli`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = frontdesk_server::cli::Cli::parse();
    match frontdesk_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frontdesk: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
