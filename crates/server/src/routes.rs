//! Every route, with what it requires. The router is built from this table, and the permission test
//! walks the same table for every role, so no route can escape the guard.

use crate::auth::Access;
use crate::policy::Action;
use crate::state::AppState;
use crate::{api, ops, pages, tips, voice, webhooks};
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

/// One route.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path template.
    pub path: &'static str,
    /// What the caller needs.
    pub access: Access,
    /// The handler, as a method router.
    pub handler: fn() -> MethodRouter<AppState>,
}

fn r(
    method: Method,
    path: &'static str,
    access: Access,
    handler: fn() -> MethodRouter<AppState>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        handler,
    }
}

/// The whole table.
#[rustfmt::skip]
pub fn table() -> Vec<RouteSpec> {
    use Access::{Public, Staff};
    use Action::*;
    use Method as M;
    vec![
        // Operations and assets.
        r(M::GET, "/healthz", Public, || get(ops::healthz)),
        r(M::GET, "/readyz", Public, || get(ops::readyz)),
        r(M::GET, "/metrics", Public, || get(ops::metrics)),
        r(M::GET, "/static/style.css", Public, || get(ops::stylesheet)),
        r(M::GET, "/static/intake.js", Public, || get(ops::intake_js)),
        r(M::GET, "/static/help/help.css", Public, || get(ops::help_css)),
        r(M::GET, "/static/help/quick-exit.js", Public, || get(ops::quick_exit_js)),
        // Signing in and out.
        r(M::GET, "/login", Public, || get(pages::login::show)),
        r(M::POST, "/login", Public, || post(pages::login::submit)),
        r(M::POST, "/logout", Staff(ViewHome), || post(pages::login::logout)),
        // Staff pages.
        r(M::GET, "/", Staff(ViewHome), || get(pages::home::show)),
        r(M::GET, "/contacts/new", Staff(ContactWrite), || get(pages::contacts::new)),
        r(M::POST, "/contacts", Staff(ContactWrite), || post(pages::contacts::create)),
        r(M::GET, "/contacts/{id}", Staff(CaseRead), || get(pages::contacts::show)),
        r(M::POST, "/contacts/{id}/attach", Staff(CaseWrite), || post(pages::contacts::attach)),
        r(M::GET, "/cases", Staff(CaseRead), || get(pages::cases::list)),
        r(M::POST, "/cases/search", Staff(CaseRead), || post(pages::cases::search)),
        r(M::GET, "/cases/{id}", Staff(CaseRead), || get(pages::cases::show)),
        r(M::POST, "/cases/{id}/notes", Staff(CaseWrite), || post(pages::cases::add_note)),
        r(M::POST, "/cases/{id}/status", Staff(CaseWrite), || post(pages::cases::set_status)),
        r(M::POST, "/cases/{id}/safety", Staff(CaseWrite), || post(pages::cases::set_safety)),
        r(M::POST, "/cases/{id}/needs", Staff(CaseWrite), || post(pages::cases::set_needs)),
        r(M::POST, "/cases/{id}/parties", Staff(CaseWrite), || post(pages::cases::add_party)),
        r(M::POST, "/cases/{id}/tasks", Staff(CaseWrite), || post(pages::cases::add_task)),
        r(M::POST, "/tasks/{id}", Staff(CaseWrite), || post(pages::cases::toggle_task)),
        r(M::GET, "/directory", Staff(DirectoryRead), || get(pages::directory::show)),
        r(M::POST, "/directory", Staff(DirectoryRead), || post(pages::directory::run)),
        r(M::GET, "/directory/manage", Staff(DirectoryWrite), || get(pages::directory::manage)),
        r(M::GET, "/directory/new", Staff(DirectoryWrite), || get(pages::directory::new_entry)),
        r(M::POST, "/directory/services", Staff(DirectoryWrite), || post(pages::directory::create_entry)),
        r(M::GET, "/directory/services/{id}/edit", Staff(DirectoryWrite), || get(pages::directory::edit_entry)),
        r(M::POST, "/directory/services/{id}", Staff(DirectoryWrite), || post(pages::directory::update_entry)),
        r(M::POST, "/directory/services/{id}/vet", Staff(DirectoryWrite), || post(pages::directory::vet_form)),
        r(M::GET, "/cases/{id}/referrals/new", Staff(ReferralWrite), || get(pages::referrals::new)),
        r(M::POST, "/cases/{id}/referrals", Staff(ReferralWrite), || post(pages::referrals::submit)),
        r(M::POST, "/referrals/{id}/move", Staff(ReferralWrite), || post(pages::referrals::move_form)),
        r(M::GET, "/inbox", Staff(PartnerInbox), || get(pages::referrals::inbox)),
        r(M::POST, "/inbox/{id}", Staff(PartnerInbox), || post(pages::referrals::answer)),
        r(M::GET, "/review", Staff(Review), || get(pages::review::show)),
        r(M::POST, "/review/{id}", Staff(Review), || post(pages::review::decide)),
        // Insights: the dashboard and its CSV downloads (rollups only).
        r(M::GET, "/insights", Staff(InsightsRead), || get(pages::insights::show)),
        r(M::GET, "/insights/gaps", Staff(InsightsRead), || get(pages::gaps::show)),
        r(M::GET, "/insights/gaps.csv", Staff(InsightsRead), || get(pages::gaps::csv)),
        r(M::GET, "/insights/{file}", Staff(InsightsRead), || get(pages::insights::csv)),
        r(M::GET, "/insights/states/{file}", Staff(InsightsRead), || get(pages::insights::state_page)),
        r(M::GET, "/insights/states/{usps}/{file}", Staff(InsightsRead), || get(pages::insights::state_chart_csv)),
        r(M::GET, "/api/v1/insights/rollups", Staff(InsightsRead), || get(api::insights::rollups)),
        r(M::GET, "/api/v1/insights/summary", Staff(InsightsRead), || get(api::dashboard::summary)),
        r(M::GET, "/api/v1/insights/gaps", Staff(InsightsRead), || get(api::gaps::gaps)),
        // Public statistics through the release gate, for anyone.
        r(M::GET, "/statistics", Public, || get(pages::statistics::index)),
        r(M::GET, "/statistics/{place}/{file}", Public, || get(pages::statistics::show)),
        // Cross-case linkage: the network view, its runs and decisions, and possible matches at intake.
        r(M::GET, "/linkage", Staff(LinkageRead), || get(pages::linkage::show)),
        r(M::POST, "/linkage/run", Staff(LinkageRun), || post(pages::linkage::run)),
        r(M::GET, "/linkage/components/{id}", Staff(LinkageRead), || get(pages::linkage::component)),
        r(M::POST, "/linkage/links/{id}/decision", Staff(LinkageRun), || post(pages::linkage::decide)),
        r(M::POST, "/api/v1/linkage/runs", Staff(LinkageRun), || post(api::linkage::run)),
        r(M::GET, "/api/v1/linkage/status", Staff(LinkageRead), || get(api::linkage::status)),
        r(M::GET, "/api/v1/linkage/components", Staff(LinkageRead), || get(api::linkage::components)),
        r(M::GET, "/api/v1/linkage/components/{id}", Staff(LinkageRead), || get(api::linkage::component)),
        r(M::POST, "/api/v1/linkage/links/{id}/decision", Staff(LinkageRun), || post(api::linkage::decide)),
        r(M::POST, "/api/v1/linkage/possible-matches", Staff(CaseRead), || post(api::linkage::possible_matches)),
        r(M::GET, "/admin/users", Staff(ManageUsers), || get(pages::admin::users)),
        r(M::POST, "/admin/users", Staff(ManageUsers), || post(pages::admin::create_user)),
        r(M::GET, "/admin/users/{id}", Staff(ManageUsers), || get(pages::admin::user)),
        r(M::POST, "/admin/users/{id}", Staff(ManageUsers), || post(pages::admin::update_user)),
        r(M::POST, "/admin/users/{id}/tokens", Staff(ManageUsers), || post(pages::admin::create_token)),
        r(M::POST, "/admin/tokens/{id}/revoke", Staff(ManageUsers), || post(pages::admin::revoke_token)),
        r(M::POST, "/admin/partners", Staff(ManageUsers), || post(pages::admin::create_partner)),
        r(M::GET, "/admin/audit", Staff(AuditRead), || get(pages::admin::audit)),
        // JSON API.
        r(M::GET, "/api/v1/openapi.json", Public, || get(api::openapi::document)),
        r(M::GET, "/api/v1/me", Staff(ViewHome), || get(api::users::me)),
        r(M::GET, "/api/v1/users", Staff(ManageUsers), || get(api::users::list)),
        r(M::POST, "/api/v1/users", Staff(ManageUsers), || post(api::users::create)),
        r(M::GET, "/api/v1/users/{id}", Staff(ManageUsers), || get(api::users::get)),
        r(M::PATCH, "/api/v1/users/{id}", Staff(ManageUsers), || patch(api::users::update)),
        r(M::POST, "/api/v1/users/{id}/tokens", Staff(ManageUsers), || post(api::users::create_token)),
        r(M::DELETE, "/api/v1/tokens/{id}", Staff(ManageUsers), || delete(api::users::revoke_token)),
        r(M::POST, "/api/v1/screening/assess", Staff(ScreeningAssess), || post(api::screening::assess)),
        r(M::GET, "/api/v1/contacts", Staff(CaseRead), || get(api::contacts::list)),
        r(M::POST, "/api/v1/contacts", Staff(ContactWrite), || post(api::contacts::create)),
        r(M::GET, "/api/v1/contacts/{id}", Staff(CaseRead), || get(api::contacts::get)),
        r(M::POST, "/api/v1/contacts/{id}/attach", Staff(CaseWrite), || post(api::contacts::attach)),
        r(M::GET, "/api/v1/cases", Staff(CaseRead), || get(api::cases::list)),
        r(M::POST, "/api/v1/cases", Staff(CaseWrite), || post(api::cases::create)),
        r(M::POST, "/api/v1/cases/matches", Staff(CaseRead), || post(api::cases::matches)),
        r(M::GET, "/api/v1/cases/{id}", Staff(CaseRead), || get(api::cases::file)),
        r(M::PATCH, "/api/v1/cases/{id}", Staff(CaseWrite), || patch(api::cases::update)),
        r(M::POST, "/api/v1/cases/{id}/parties", Staff(CaseWrite), || post(api::cases::add_party)),
        r(M::POST, "/api/v1/cases/{id}/notes", Staff(CaseWrite), || post(api::cases::create_note)),
        r(M::POST, "/api/v1/cases/{id}/tasks", Staff(CaseWrite), || post(api::cases::create_task)),
        r(M::PUT, "/api/v1/parties/{id}", Staff(CaseWrite), || put(api::cases::update_party)),
        r(M::GET, "/api/v1/tasks", Staff(CaseRead), || get(api::cases::tasks)),
        r(M::PATCH, "/api/v1/tasks/{id}", Staff(CaseWrite), || patch(api::cases::update_task)),
        r(M::GET, "/api/v1/directory/search", Staff(DirectoryRead), || get(api::directory::search_get)),
        r(M::POST, "/api/v1/directory/search", Staff(DirectoryRead), || post(api::directory::search_post)),
        r(M::GET, "/api/v1/directory/due", Staff(DirectoryWrite), || get(api::directory::due)),
        r(M::POST, "/api/v1/directory/records", Staff(DirectoryWrite), || post(api::directory::put_records)),
        r(M::DELETE, "/api/v1/directory/records/{table}/{id}", Staff(DirectoryWrite), || delete(api::directory::delete_record)),
        r(M::POST, "/api/v1/directory/services/{id}/vet", Staff(DirectoryWrite), || post(api::directory::vet_api)),
        r(M::GET, "/api/v1/hsds/", Staff(DirectoryRead), || get(api::directory::hsds_root)),
        r(M::GET, "/api/v1/hsds/services", Staff(DirectoryRead), || get(api::directory::hsds_services)),
        r(M::GET, "/api/v1/hsds/services/{id}", Staff(DirectoryRead), || get(api::directory::hsds_service)),
        r(M::GET, "/api/v1/hsds/service_at_locations", Staff(DirectoryRead), || get(api::directory::hsds_service_at_locations)),
        r(M::GET, "/api/v1/hsds/taxonomies", Staff(DirectoryRead), || get(api::directory::hsds_taxonomies)),
        r(M::GET, "/api/v1/hsds/taxonomy_terms", Staff(DirectoryRead), || get(api::directory::hsds_taxonomy_terms)),
        r(M::POST, "/api/v1/cases/{id}/referrals", Staff(ReferralWrite), || post(api::referrals::create_api)),
        r(M::GET, "/api/v1/cases/{id}/referrals", Staff(CaseRead), || get(api::referrals::of_case)),
        r(M::POST, "/api/v1/referrals/{id}/move", Staff(ReferralWrite), || post(api::referrals::move_api)),
        r(M::GET, "/api/v1/referrals/proposed", Staff(Review), || get(api::referrals::proposed)),
        r(M::GET, "/api/v1/inbox", Staff(PartnerInbox), || get(api::referrals::inbox)),
        r(M::POST, "/api/v1/inbox/{id}", Staff(PartnerInbox), || post(api::referrals::inbox_move)),
        r(M::GET, "/api/v1/reviews", Staff(Review), || get(api::review::list)),
        r(M::POST, "/api/v1/reviews/{id}", Staff(Review), || post(api::review::decide_api)),
        // The SMS line: Twilio's webhooks (signature checked by the handler), the console, its API.
        r(M::POST, "/webhooks/sms/twilio", Public, || post(webhooks::inbound)),
        r(M::POST, "/webhooks/sms/twilio/status", Public, || post(webhooks::status)),
        r(M::GET, "/sms", Staff(ChannelConsole), || get(pages::sms::list)),
        r(M::GET, "/sms/{id}", Staff(ChannelConsole), || get(pages::sms::show)),
        r(M::POST, "/sms/{id}/reply", Staff(ChannelConsole), || post(pages::sms::send)),
        r(M::POST, "/sms/{id}/link", Staff(ChannelConsole), || post(pages::sms::link)),
        r(M::POST, "/sms/{id}/status", Staff(ChannelConsole), || post(pages::sms::set_status)),
        r(M::POST, "/sms/messages/{id}/retry", Staff(ChannelConsole), || post(pages::sms::retry)),
        r(M::GET, "/api/v1/sms/conversations", Staff(ChannelConsole), || get(api::sms::list)),
        r(M::GET, "/api/v1/sms/conversations/{id}", Staff(ChannelConsole), || get(api::sms::get)),
        r(M::POST, "/api/v1/sms/conversations/{id}/messages", Staff(ChannelConsole), || post(api::sms::send)),
        r(M::POST, "/api/v1/sms/conversations/{id}/link", Staff(ChannelConsole), || post(api::sms::link)),
        r(M::POST, "/api/v1/sms/conversations/{id}/status", Staff(ChannelConsole), || post(api::sms::set_status)),
        r(M::POST, "/api/v1/sms/messages/{id}/retry", Staff(ChannelConsole), || post(api::sms::retry)),
        // The web chat: the help-seeker's page and socket (no account), the console, its socket and API.
        r(M::GET, "/chat", Public, || get(pages::chat::help_page)),
        r(M::GET, "/chat/socket", Public, || get(pages::chat::seeker_socket)),
        r(M::GET, "/static/help/chat.js", Public, || get(pages::chat::chat_js)),
        r(M::GET, "/static/chats.js", Public, || get(pages::chat::chats_js)),
        r(M::GET, "/chats", Staff(ChannelConsole), || get(pages::chat::console)),
        r(M::GET, "/chats/socket", Staff(ChannelConsole), || get(pages::chat::advocate_socket)),
        r(M::GET, "/api/v1/chats", Staff(ChannelConsole), || get(api::chats::list)),
        r(M::GET, "/api/v1/chats/staff", Staff(ChannelConsole), || get(api::chats::staff)),
        r(M::GET, "/api/v1/chats/{id}", Staff(ChannelConsole), || get(api::chats::get)),
        r(M::POST, "/api/v1/chats/{id}/link", Staff(ChannelConsole), || post(api::chats::link)),
        // Web tips: the anonymous form (checked by its handler) and the staff's list.
        r(M::GET, "/tip", Public, || get(tips::form)),
        r(M::POST, "/tip", Public, || post(tips::submit)),
        r(M::GET, "/tips", Staff(CaseRead), || get(tips::list)),
        // Voice: Twilio's call webhooks (signature checked by the handler), live calls, the call log.
        r(M::POST, "/webhooks/voice/twilio", Public, || post(voice::inbound)),
        r(M::POST, "/webhooks/voice/twilio/status", Public, || post(voice::status)),
        r(M::GET, "/calls", Staff(ChannelConsole), || get(pages::calls::list)),
        r(M::POST, "/calls/{id}/take", Staff(ChannelConsole), || post(pages::calls::take)),
        r(M::GET, "/contacts/{id}/call", Staff(CaseRead), || get(pages::calls::show_log)),
        r(M::POST, "/contacts/{id}/call", Staff(ContactWrite), || post(pages::calls::save_log)),
        r(M::GET, "/api/v1/calls", Staff(ChannelConsole), || get(api::calls::list)),
        r(M::POST, "/api/v1/calls/{id}/take", Staff(ChannelConsole), || post(api::calls::take)),
        r(M::GET, "/api/v1/contacts/{id}/call", Staff(CaseRead), || get(api::calls::get_log)),
        r(M::PUT, "/api/v1/contacts/{id}/call", Staff(ContactWrite), || put(api::calls::put_log)),
    ]
}
