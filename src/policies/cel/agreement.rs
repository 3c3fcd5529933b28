//! Direct evaluation ([`super::direct`]) against the interpreter: on a matrix of expressions and
//! objects, whatever the direct path decides must be the interpreter's verdict, and it must
//! decide the common shapes (else the fast path silently stopped being taken).

use super::{Check, Verdict};
use crate::source::FileId;
use crate::yaml::Node;

fn node(yaml: &str) -> Node {
    crate::yaml::parse_documents(yaml, FileId(0))
        .unwrap()
        .remove(0)
}

/// Objects the agreement test evaluates on: a full one, one missing most fields, odd
/// scalars.
const AGREEMENT_OBJECTS: &[&str] = &[
    "metadata:\n  name: app-1\n  namespace: team-a\n  labels: {team: a, env: prod}\n  annotations: {note: é}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.2\n        resources: {limits: {memory: 512Mi, cpu: 500m}}\n        ports: [{containerPort: 8080}]\n      - name: side\n        image: busybox:latest\n        resources: {limits: {memory: 1.5Gi, cpu: '2'}}\n",
    "metadata: {name: x}\nspec: {}\n",
    "metadata:\n  name: ünï\n  labels: {}\nspec:\n  replicas: 2.5\n  paused: true\n  selector: null\n  template: {spec: {containers: []}}\n",
];

/// Each expression, and whether direct evaluation decides it on the first object.
const AGREEMENT_EXPRESSIONS: &[(&str, bool)] = &[
    ("object.spec.replicas >= 2", true),
    (
        "object.spec.replicas * 2 >= 7 && -object.spec.replicas < 0",
        true,
    ),
    (
        "object.spec.replicas / 2 == 1 && object.spec.replicas % 2 == 1",
        true,
    ),
    ("object.spec.replicas - 4 < 0", true),
    (
        "has(object.metadata.labels) && 'team' in object.metadata.labels",
        true,
    ),
    ("object.metadata.labels['team'] == 'a'", true),
    (
        "object.spec.template.spec.containers.all(c, has(c.resources.limits) && has(c.resources.limits.memory))",
        true,
    ),
    (
        "object.spec.template.spec.containers.exists(c, c.image.endsWith(':latest'))",
        true,
    ),
    (
        "object.spec.template.spec.containers.exists_one(c, c.name == 'web')",
        true,
    ),
    (
        "object.spec.template.spec.containers.all(c, quantity(c.resources.limits.memory).isLessThan(quantity('1Gi')))",
        true,
    ),
    (
        "object.spec.template.spec.containers.all(c, quantity(c.resources.limits.cpu).compareTo(quantity('1')) <= 0)",
        true,
    ),
    (
        "object.spec.template.spec.containers.exists(c, quantity(c.resources.limits.memory).isGreaterThan(quantity('1536Mi')))",
        true,
    ),
    ("object.metadata.name.matches('^app-[0-9]+$')", true),
    (
        "object.metadata.name.matches(object.metadata.labels.team)",
        true,
    ),
    ("object.metadata.name.matches('(')", false),
    (
        "size(object.metadata.name) == 5 && object.metadata.labels.size() == 2",
        true,
    ),
    ("size(object.metadata.annotations.note) == 2", true),
    (
        "object.metadata.labels.all(k, k.startsWith('t') || k == 'env')",
        true,
    ),
    ("object.metadata.labels.exists(k, k.contains('nv'))", true),
    ("object.metadata.namespace in ['team-a', 'team-b']", true),
    (
        "'web' in object.spec.template.spec.containers.map(c, c.name)",
        false,
    ),
    (
        "oldObject == null || object.spec.replicas >= oldObject.spec.replicas / 2",
        true,
    ),
    (
        "object.spec.replicas > 2 ? object.metadata.name != '' : false",
        true,
    ),
    ("object.metadata.name + '-x' == 'app-1-x'", true),
    ("object.spec.missing > 1", false),
    ("object.spec.replicas == 3.0", false),
    ("object.spec.replicas > 1u", false),
    (
        "object.spec.template.spec.containers[0].name == 'web'",
        true,
    ),
    (
        "object.spec.template.spec.containers[5].name == 'web'",
        false,
    ),
    (
        "object.spec.template.spec.containers.all(c, c.ports.all(p, p.containerPort > 80))",
        false,
    ),
    (
        "object.metadata.labels.all(k, k.size() > 0) && !has(object.spec.paused)",
        true,
    ),
    (
        "environment.stage == 'production' || environment.name == 'dev'",
        true,
    ),
    ("object.metadata.name", false),
    ("[1, 2].size() == 2", false),
];

#[test]
fn direct_evaluation_agrees_with_the_interpreter() {
    let objects: Vec<Node> = AGREEMENT_OBJECTS.iter().map(|y| node(y)).collect();
    let environment = node("name: dev\nstage: null\napp: a\n");
    let old = node("spec: {replicas: 10}\n");
    let mut decided = 0;
    for (expr, direct_on_first) in AGREEMENT_EXPRESSIONS {
        let c = Check::new(
            &[],
            expr,
            Some("object.metadata.name + ' failed'"),
            &["object", "oldObject", "environment"],
        )
        .unwrap();
        for (i, o) in objects.iter().enumerate() {
            for old in [None, Some(&old)] {
                let inputs = [
                    ("object", Some(o)),
                    ("oldObject", old),
                    ("environment", Some(&environment)),
                ];
                let direct = c.evaluate_directly(&inputs);
                if i == 0 && old.is_none() {
                    assert_eq!(direct.is_some(), *direct_on_first, "{expr}");
                }
                if let Some(d) = direct {
                    decided += 1;
                    assert_eq!(d, c.interpret(&inputs), "{expr} on object {i}");
                }
            }
        }
    }
    assert!(
        decided > 40,
        "direct evaluation decided only {decided} cases"
    );
}

#[test]
fn direct_evaluation_with_variables_and_messages() {
    let c = Check::new(
        &[
            ("containers".into(), "object.spec.containers".into()),
            ("first".into(), "variables.containers[0].name".into()),
        ],
        "variables.first == 'web' && variables.containers.all(c, c.image != '')",
        Some("'first container: ' + variables.first"),
        &["object"],
    )
    .unwrap();
    for (yaml, want) in [
        (
            "spec: {containers: [{name: web, image: a}]}\n",
            Verdict::Pass,
        ),
        (
            "spec: {containers: [{name: db, image: a}]}\n",
            Verdict::Fail(Some("first container: db".into())),
        ),
    ] {
        let o = node(yaml);
        let inputs = [("object", Some(&o))];
        assert_eq!(c.evaluate_directly(&inputs), Some(want.clone()), "{yaml}");
        assert_eq!(c.interpret(&inputs), want, "{yaml}");
    }
    // A message outside the subset is the interpreter's to build.
    let c = Check::new(
        &[],
        "object.x > 1",
        Some("'x is ' + string(object.x)"),
        &["object"],
    )
    .unwrap();
    let o = node("x: 0\n");
    assert_eq!(c.evaluate_directly(&[("object", Some(&o))]), None);
    assert_eq!(
        c.evaluate(&[("object", Some(&o))]),
        Verdict::Fail(Some("x is 0".into()))
    );
}
