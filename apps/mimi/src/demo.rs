//! `mimi demo`: the seed figure of the MIMI architecture, played with what exists today.

use anyhow::Context as _;
use clap::Args;
use mimi_types::{ClientUri, Domain, Ident, RoomUri, UserUri};

/// Options of `mimi demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

/// A user of the figure and the names of their devices.
type FigureUser = (&'static str, &'static [&'static str]);

/// The providers, users and devices of the architecture figure.
const FIGURE: &[(&str, &[FigureUser])] = &[
    ("x.example", &[("alice", &["phone"]), ("bob", &["laptop"])]),
    ("y.example", &[("charlie", &["phone", "laptop"])]),
    (
        "z.example",
        &[("diana", &["phone"]), ("evelyn", &["tablet"])],
    ),
];

pub(crate) fn run(_args: &DemoArgs) -> anyhow::Result<()> {
    let hub = Domain::parse("y.example")?;
    let room = RoomUri::new(hub.clone(), Ident::parse("clubhouse")?);
    println!("MIMI architecture figure");
    println!(
        "room  {room}  (hub: {}, MLS group {})",
        room.hub_domain(),
        room.group_uri()
    );
    for (domain, users) in FIGURE {
        let domain = Domain::parse(domain).with_context(|| format!("domain {domain}"))?;
        let role = if domain == hub { "hub" } else { "follower" };
        println!("provider {}  [{role}]", domain.provider_uri());
        for (user, devices) in *users {
            let user = UserUri::new(domain.clone(), Ident::parse(user)?);
            println!("  user {user}");
            for device in *devices {
                let client = ClientUri::of_user(&user, Ident::parse(device)?);
                println!("    device {client}");
            }
        }
    }
    println!();
    println!(
        "Only the identifier layer exists so far: servers, MLS and messages arrive with the \
         next issues (see README.md, Status)."
    );
    Ok(())
}
