use super::*;

#[test]
fn production_refuses_to_start_without_jwt_secret() {
    let vars = HashMap::from([("APP_ENV", "production")]);
    let err = Settings::from_map(&vars).unwrap_err().to_string();
    assert!(err.contains("JWT_SECRET"), "{err}");
}

#[test]
fn production_names_the_missing_razorpay_variable() {
    let vars = HashMap::from([
        ("APP_ENV", "production"),
        ("JWT_SECRET", "s3cret"),
        ("RAZORPAY_KEY_ID", "rzp_live_x"),
        ("RAZORPAY_KEY_SECRET", "k"),
    ]);
    let err = Settings::from_map(&vars).unwrap_err().to_string();
    assert!(err.contains("RAZORPAY_WEBHOOK_SECRET"), "{err}");
}

#[test]
fn development_generates_a_secret_and_uses_the_sandbox() {
    let settings = Settings::from_map(&HashMap::new()).unwrap();
    assert!(settings.jwt.secret_generated);
    assert_eq!(settings.jwt.secret.expose().len(), 64);
    assert!(settings.uses_payment_sandbox());
    assert_eq!(settings.port, 5000);
    assert_eq!(settings.commission_bps, 1000);
    assert_eq!(settings.database_url, "sqlite://parley.db?mode=rwc");
}

#[test]
fn redis_requires_postgres() {
    let vars = HashMap::from([("REDIS_URL", "redis://127.0.0.1:6379")]);
    let err = Settings::from_map(&vars).unwrap_err().to_string();
    assert!(err.contains("REDIS_URL") && err.contains("PostgreSQL"), "{err}");
    let vars = HashMap::from([("REDIS_URL", "redis://127.0.0.1:6379"), ("DATABASE_URL", "postgres://u@h/db")]);
    assert!(Settings::from_map(&vars).is_ok());
}

#[test]
fn older_clients_authenticate_by_event_only_when_enabled_and_within_ten_seconds() {
    let settings = Settings::from_map(&HashMap::new()).unwrap();
    assert!(!settings.legacy_auth_event);
    assert_eq!(settings.legacy_auth_timeout, Duration::from_secs(10));
    let vars = HashMap::from([("LEGACY_AUTH_EVENT", "true"), ("LEGACY_AUTH_TIMEOUT_MS", "250")]);
    let settings = Settings::from_map(&vars).unwrap();
    assert!(settings.legacy_auth_event);
    assert_eq!(settings.legacy_auth_timeout, Duration::from_millis(250));
}

#[test]
fn one_socket_parser_per_server_json_unless_msgpack_is_asked_for() {
    assert_eq!(Settings::from_map(&HashMap::new()).unwrap().socketio_parser, SocketParser::Default);
    let vars = HashMap::from([("SOCKETIO_PARSER", "msgpack")]);
    assert_eq!(Settings::from_map(&vars).unwrap().socketio_parser, SocketParser::MsgPack);
    let vars = HashMap::from([("SOCKETIO_PARSER", "cbor")]);
    assert!(Settings::from_map(&vars).unwrap_err().to_string().contains("SOCKETIO_PARSER"));
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let vars = HashMap::from([("JWT_SECRET", "very-secret-value")]);
    let settings = Settings::from_map(&vars).unwrap();
    assert!(!format!("{settings:?}").contains("very-secret-value"));
}
