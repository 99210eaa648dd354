//! The OpenAPI document, generated from the handlers' annotations. A test checks that every `/api/`
//! route of the route table is in it, so the document cannot drift from the code.

use axum::Json;
use utoipa::OpenApi;

/// Lantern's API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lantern API",
        description = "The JSON API of Lantern, a platform for anti-trafficking hotlines. \
        Authenticate with `Authorization: Bearer <token>` (see `lantern tokens create`). Errors are RFC 9457 \
        problem documents."
    ),
    paths(
        super::users::me,
        super::users::list,
        super::users::create,
        super::users::get,
        super::users::update,
        super::users::create_token,
        super::users::revoke_token,
        super::screening::assess,
        super::review::list,
        super::contacts::list,
        super::contacts::create,
        super::contacts::get,
        super::contacts::attach,
        super::cases::list,
        super::cases::create,
        super::cases::matches,
        super::cases::file,
        super::cases::update,
        super::cases::add_party,
        super::cases::update_party,
        super::cases::tasks,
        super::cases::create_note,
        super::cases::create_task,
        super::cases::update_task,
        super::review::decide_api,
        super::directory::search_get,
        super::directory::search_post,
        super::directory::due,
        super::directory::put_records,
        super::directory::delete_record,
        super::directory::vet_api,
        super::directory::hsds_root,
        super::directory::hsds_services,
        super::directory::hsds_service,
        super::directory::hsds_service_at_locations,
        super::directory::hsds_taxonomies,
        super::directory::hsds_taxonomy_terms,
        super::referrals::create_api,
        super::referrals::of_case,
        super::referrals::move_api,
        super::referrals::proposed,
        super::referrals::inbox,
        super::referrals::inbox_move,
        super::sms::list,
        super::sms::get,
        super::sms::send,
        super::sms::retry,
        super::sms::link,
        super::sms::set_status,
        super::insights::rollups,
        super::dashboard::summary,
        super::gaps::gaps,
        super::linkage::run,
        super::linkage::status,
        super::linkage::components,
        super::linkage::component,
        super::linkage::decide,
        super::linkage::possible_matches,
        super::calls::list,
        super::calls::take,
        super::calls::get_log,
        super::calls::put_log,
        super::chats::list,
        super::chats::staff,
        super::chats::get,
        super::chats::link,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
