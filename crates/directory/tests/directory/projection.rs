use crate::fixture::{Spec, add};
use lantern_directory::demo::generate;
use lantern_directory::ext::{Viewer, location_is_redacted, project};
use lantern_directory::model::Directory;

fn text_of(dir: &Directory) -> String {
    serde_json::to_string(dir).unwrap()
}

#[test]
fn a_redacted_address_never_appears_in_a_partner_or_public_view() {
    let mut dir = Directory::default();
    add(
        &mut dir,
        1,
        &Spec {
            name: "Shelter",
            redacted: true,
            ..Spec::default()
        },
    );
    add(
        &mut dir,
        2,
        &Spec {
            name: "Clinic",
            ..Spec::default()
        },
    );

    for viewer in [Viewer::Partner, Viewer::Public] {
        let view = project(&dir, viewer);
        let text = text_of(&view);
        assert!(
            !text.contains("1 Secret Street"),
            "{viewer:?} sees the shelter's street"
        );
        assert!(
            text.contains("2 Secret Street"),
            "{viewer:?} sees the clinic's street"
        );
        let shelter = view
            .location
            .values()
            .find(|l| location_is_redacted(*l))
            .expect("the location itself stays");
        assert!(shelter.latitude.is_none() && shelter.longitude.is_none());
    }
    assert!(text_of(&project(&dir, Viewer::Internal)).contains("1 Secret Street"));
}

#[test]
fn an_internal_phone_is_seen_only_internally_and_partner_fields_not_publicly() {
    let mut dir = Directory::default();
    add(&mut dir, 1, &Spec::default());
    let svc = dir.service.values_mut().next().unwrap();
    let ext = svc.lantern.get_or_insert_with(Default::default);
    ext.field_visibility
        .insert("email".into(), lantern_directory::ext::Visibility::Partner);
    svc.email = Some("intake@example.org".into());

    let public = text_of(&project(&dir, Viewer::Public));
    let partner = text_of(&project(&dir, Viewer::Partner));
    let internal = text_of(&project(&dir, Viewer::Internal));

    assert!(!public.contains("+13125559999") && !partner.contains("+13125559999"));
    assert!(internal.contains("+13125559999"));
    assert!(!public.contains("intake@example.org"));
    assert!(partner.contains("intake@example.org"));
    assert!(
        !partner.contains("field_visibility"),
        "partners do not see the visibility rules"
    );
}

#[test]
fn the_demo_network_in_a_partner_view_holds_no_redacted_street_address() {
    let dir = generate(7, 400);
    let redacted: Vec<&String> = dir
        .location
        .values()
        .filter(|l| location_is_redacted(*l))
        .map(|l| &l.id)
        .collect();
    assert!(!redacted.is_empty(), "the demo has confidential shelters");
    let view = project(&dir, Viewer::Partner);
    for a in view.address.values() {
        assert!(
            !redacted.contains(&a.location_id.as_ref().unwrap()),
            "address {} of a redacted location",
            a.id
        );
    }
    assert!(view.address.len() < dir.address.len());
}
