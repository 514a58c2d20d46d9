use clap::Parser;
use parley::{
    Application,
    cli::{Cli, Command},
    config::Settings,
    db, telemetry,
};

/// mimalloc instead of the system allocator: on the chat path glibc's
/// malloc spent about a sixth of the server's CPU (BENCHMARKS.md,
/// "The allocator").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match cli.command() {
        Command::Serve => Application::build(settings).await?.run().await,
        Command::Migrate => {
            db::migrate(&db::connect(&settings).await?).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
