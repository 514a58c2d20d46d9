//! Real processes for multi-node tests: `parley` nodes, a `redis-server`,
//! and a private PostgreSQL cluster that a test may stop and start.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub const SECRET: &str = "cluster-test-secret";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| PathBuf::from(dir).join(program)).find(|p| p.is_file())
}

/// A Parley node: the real binary, started with the given environment.
pub struct Node {
    pub base: String,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Node {
    pub async fn start(env: &HashMap<&str, String>) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("JWT_SECRET", SECRET)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("PRESENCE_TTL_MS", "2000")
            .env("REDELIVERY_AFTER_MS", "3000")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("parley binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = tokio::sync::oneshot::channel::<String>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        for stream in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(i) = line.find("listening on http://") {
                        let addr: String = line[i + 20..]
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        if let Some(tx) = tx.lock().unwrap().take() {
                            let _ = tx.send(addr);
                        }
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let addr = match tokio::time::timeout(Duration::from_secs(60), rx).await {
            Ok(Ok(addr)) => addr,
            _ => panic!("node did not start:\n{}", log.lock().unwrap()),
        };
        Node { base: format!("http://{addr}"), child, log }
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("node running");
        let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig} {pid} failed");
    }

    /// Dies at once, saying goodbye to no one.
    pub fn kill9(&self) {
        self.signal("-KILL");
    }

    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.child.wait()).await.expect("node exited in time").expect("wait")
    }
}

/// A throw-away `redis-server` on a fixed port, so it can come back there.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        let mut server = RedisServer { port: free_port(), child: None };
        server.launch().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) {
        let Some(bin) = which("redis-server") else {
            panic!("redis-server is required for the multi-node tests: install it (apt-get install redis-server)");
        };
        let child = Command::new(bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not listen on {}", self.port);
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }
}

/// A fresh database on the PostgreSQL server of `TEST_DATABASE_URL`.
pub async fn fresh_postgres() -> String {
    let admin = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| {
        panic!(
            "the multi-node tests need PostgreSQL: set TEST_DATABASE_URL=postgres://user@host:port/postgres \
             (tests/run starts a throw-away cluster and sets it)"
        )
    });
    create_database(&admin).await
}

async fn create_database(admin_url: &str) -> String {
    use sea_orm::{ConnectionTrait, Database};
    let name = format!("parley_cluster_{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(admin_url).await.expect("PostgreSQL reachable");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    admin.close().await.ok();
    let (prefix, _) = admin_url.rsplit_once('/').expect("url with a database");
    format!("{prefix}/{name}")
}

/// A private PostgreSQL cluster this test may stop and start.
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    pub async fn start() -> PrivatePostgres {
        let bin = which("initdb")
            .and_then(|p| p.parent().map(PathBuf::from))
            .or_else(|| {
                std::fs::read_dir("/usr/lib/postgresql")
                    .ok()?
                    .flatten()
                    .map(|e| e.path().join("bin"))
                    .find(|b| b.join("initdb").is_file())
            })
            .unwrap_or_else(|| panic!("PostgreSQL server binaries (initdb, pg_ctl) are required: install postgresql"));
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = nix_is_root();
        if as_postgres {
            std::process::Command::new("chown")
                .args(["-R", "postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
        }
        let pg = PrivatePostgres { bin, dir, port: free_port(), as_postgres };
        let data = pg.data();
        assert!(pg.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]), "initdb failed");
        pg.start_server();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let exe = self.bin.join(tool).display().to_string();
        let mut cmd = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", &exe]);
            c
        } else {
            std::process::Command::new(&exe)
        };
        cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
    }

    pub fn start_server(&self) {
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let log = self.dir.path().join("server.log").display().to_string();
        assert!(
            self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-w", "-o", &opts, "start"]),
            "pg_ctl start failed"
        );
    }

    pub fn stop_server(&self) {
        assert!(self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]), "pg_ctl stop failed");
    }

    pub async fn database(&self) -> String {
        create_database(&format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)).await
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

fn nix_is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false)
}
