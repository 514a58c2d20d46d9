//! The demo page and the API viewer load browser builds that npm installs
//! into static/node_modules; they are embedded in the binary, so say how to
//! get them when they are missing.

use std::path::Path;

const NEEDED: &[&str] = &[
    "static/node_modules/socket.io-client/dist/socket.io.esm.min.js",
    "static/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
];

fn main() {
    println!("cargo:rerun-if-changed=static/node_modules");
    println!("cargo:rerun-if-changed=static/package-lock.json");
    for file in NEEDED {
        if !Path::new(file).exists() {
            println!(
                "cargo:warning={file} is missing: run `npm ci --prefix static` and build again, \
                 or the embedded demo page and /api/docs lack their scripts"
            );
        }
    }
}
