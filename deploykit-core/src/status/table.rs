//! The human form of a status: one aligned row per environment and app, then the details
//! (disagreeing instances, unknown fields, migrations and assets, changelog) per app.

use crate::fleet_ops::table::render;
use crate::ports::PrState;
use crate::status::{AppStatus, EnvironmentStatus, StatusReport};

/// The marker of a row whose instances disagree on the SHA.
pub const MIXED_MARK: &str = "MIXED!";

fn instances_cell(app: &AppStatus) -> String {
    app.instances.cell(|inst| {
        let roles: Vec<String> = inst
            .roles
            .iter()
            .map(|r| {
                let shas: Vec<String> = r.shas.iter().map(|c| c.label()).collect();
                let shas = if shas.is_empty() {
                    "none".to_string()
                } else {
                    shas.join("+")
                };
                format!("{} {shas}", r.group.role)
            })
            .collect();
        let text = roles.join(", ");
        if inst.is_mixed() {
            format!("{MIXED_MARK} {text}")
        } else {
            text
        }
    })
}

fn last_rc_cell(app: &AppStatus) -> String {
    app.last_rc.cell(|rc| {
        let mut text = format!("RC {}", rc.number);
        if let Some(pr) = &rc.pr {
            let state = match pr.state {
                PrState::Open => "open",
                PrState::Merged => "merged",
                PrState::Closed => "closed",
            };
            text.push_str(&format!(" (#{} {state})", pr.number));
        }
        text
    })
}

fn row(env: &EnvironmentStatus, app: &AppStatus) -> Vec<String> {
    let deployed = app.deployed.known();
    vec![
        env.env.to_string(),
        app.app.to_string(),
        app.deployed.cell(|d| d.sha.short().to_string()),
        app.deployed
            .cell(|d| d.branch.clone().unwrap_or_else(|| "-".into())),
        deployed
            .and_then(|d| d.deployed_at)
            .map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
        instances_cell(app),
        last_rc_cell(app),
        app.last_release.cell(|r| {
            r.as_ref()
                .map_or_else(|| "none".to_string(), |r| r.name.clone())
        }),
        app.pending.cell(|p| p.summary()),
    ]
}

fn details(env: &EnvironmentStatus, app: &AppStatus, with_changelog: bool) -> String {
    let mut out = Vec::new();
    for note in &app.notes {
        out.push(format!("  ! {note}"));
    }
    for problem in app.problems() {
        out.push(format!("  ? {problem}"));
    }
    if let Some(Some(release)) = app.last_release.known() {
        out.push(format!("  last release: {} {}", release.name, release.url));
    }
    if let Some(p) = app.pending.known() {
        if p.commits == 0 && p.base.matches(&p.main) {
            out.push(format!(
                "  pending: nothing, {} is deployed ({})",
                p.main_ref,
                p.main.short()
            ));
        } else {
            out.push(format!(
                "  pending: {} from {} to {} ({})",
                p.summary(),
                p.base.short(),
                p.main_ref,
                p.main.short()
            ));
        }
        let since = format!(
            "since the last migration (at {})",
            p.risk.last_migration.short()
        );
        if p.risk.migrations.is_empty() {
            out.push(format!("  migrations: none changed {since}"));
        } else {
            out.push(format!(
                "  migrations changed {since}: {}",
                p.risk.migrations.join(", ")
            ));
        }
        if p.risk.assets.is_empty() {
            out.push(format!("  assets: none changed {since}"));
        } else {
            out.push(format!(
                "  assets changed {since}: {}",
                p.risk.assets.join(", ")
            ));
        }
        if let Some(problem) = &p.changelog_problem {
            out.push(format!("  changelog: none ({problem})"));
        } else if with_changelog && !p.changelog.is_empty() {
            out.push("  changelog:".into());
            for line in p.changelog.lines() {
                out.push(format!("    {line}").trim_end().to_string());
            }
        }
    }
    if out.is_empty() {
        return String::new();
    }
    format!("{} {}:\n{}\n", env.env, app.app, out.join("\n"))
}

/// The table, then per app its details; changelogs only `with_changelog`. Unknown fields
/// show as `unknown` in the table and with their reason (`?`) in the details; notes such as
/// disagreeing instances are marked `!`.
pub fn render_status(report: &StatusReport, with_changelog: bool) -> String {
    let header = [
        "ENV",
        "APP",
        "DEPLOYED",
        "BRANCH",
        "DEPLOYED AT (UTC)",
        "INSTANCES",
        "LAST RC",
        "LAST RELEASE",
        "PENDING ON MAIN",
    ];
    let rows: Vec<Vec<String>> = report
        .environments
        .iter()
        .flat_map(|e| e.apps.iter().map(move |a| row(e, a)))
        .collect();
    let mut out = format!(
        "Status at {}\n\n",
        report.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    out.push_str(&render(&header, &rows));
    for env in &report.environments {
        for app in &env.apps {
            let d = details(env, app, with_changelog);
            if !d.is_empty() {
                out.push('\n');
                out.push_str(&d);
            }
        }
    }
    let problems = report.problems().len();
    if problems > 0 {
        out.push_str(&format!(
            "\n{problems} field(s) unknown because a source failed (marked ?); the rest is \
             current\n"
        ));
    }
    out.trim_end().to_string()
}
