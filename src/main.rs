use parley::{Application, config::Settings, db, telemetry};

const USAGE: &str = "usage: parley [serve|migrate]\n\n  serve    run the server (default)\n  migrate  apply database migrations and exit\n\nConfiguration comes from the environment and .env; see .env.example.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return Ok(());
    }
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match command.as_str() {
        "serve" => Application::build(settings).await?.run().await,
        "migrate" => {
            db::migrate(&db::connect(&settings).await?).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        other => anyhow::bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}
