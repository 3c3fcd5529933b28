//! kustomize's own examples for its git URL grammar (`api/internal/git/repospec_test.go`),
//! written out here case by case.

use super::*;

fn spec(s: &str) -> RepoSpec {
    RepoSpec::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Every way of writing a host kustomize's tests list, with every repository, path and ref:
/// the host normalizes, the rest comes through unchanged.
#[test]
fn hosts_paths_and_refs_combine() {
    let hosts = [
        ("gitHub.com/", "https://github.com/"),
        ("github.com:", "https://github.com/"),
        ("http://github.com/", "https://github.com/"),
        ("https://github.com/", "https://github.com/"),
        ("hTTps://github.com/", "https://github.com/"),
        (
            "https://git-codecommit.us-east-2.amazonaws.com/",
            "https://git-codecommit.us-east-2.amazonaws.com/",
        ),
        (
            "https://fabrikops2.visualstudio.com/",
            "https://fabrikops2.visualstudio.com/",
        ),
        ("ssh://git.example.com:7999/", "ssh://git.example.com:7999/"),
        ("git::https://gitlab.com/", "https://gitlab.com/"),
        ("git::http://git.example.com/", "http://git.example.com/"),
        ("git::https://git.example.com/", "https://git.example.com/"),
        ("git@github.com:", "git@github.com:"),
        ("git@github.com/", "git@github.com:"),
        ("git::git@github.com:", "git@github.com:"),
        ("org-12345@github.com:", "org-12345@github.com:"),
        ("org-12345@github.com/", "org-12345@github.com:"),
    ];
    for (raw_host, host) in hosts {
        for repo in ["someOrg/someRepo", "kubernetes/website"] {
            for path in ["README.md", "foo/krusty.txt", ""] {
                for r in ["group/version", "someBranch", "master", "v0.1.0", ""] {
                    let mut url = format!("{raw_host}{repo}");
                    if !path.is_empty() {
                        url = format!("{url}/{path}");
                    }
                    if !r.is_empty() {
                        url = format!("{url}?ref={r}");
                    }
                    let s = spec(&url);
                    assert_eq!(s.host, host, "{url}");
                    assert_eq!(s.repo_path, repo, "{url}");
                    assert_eq!(s.root_path, path, "{url}");
                    assert_eq!(s.git_ref.as_deref().unwrap_or(""), r, "{url}");
                }
            }
        }
    }
}

#[test]
fn what_kustomize_refuses() {
    let bad = [
        ("/tmp", "absolute path"),
        ("../../tmp", "failed to parse scheme"),
        ("src/github.com/org/repo/path", "failed to parse scheme"),
        ("iauhsdiuashduas", "failed to parse scheme"),
        ("htxxxtp://github.com/", "failed to parse scheme"),
        ("ssh://git.example.com", "failed to parse repo path segment"),
        ("git::___", "failed to parse scheme"),
        (
            "https://host?ref=group/version/minor_version",
            "failed to parse repo path segment",
        ),
        (
            "https://github.com/org/repo.git//path/../../exits/repo",
            "url path exits repo",
        ),
        ("github.com!org/repo.git//path", "failed to parse scheme"),
        ("gh:org/repo", "failed to parse scheme"),
        (
            "https://github.com/thisisa404.yaml",
            "failed to parse repo path segment",
        ),
        (
            "file:////tmp//path/to/whatever",
            "failed to parse repo path segment",
        ),
        (
            "git@scp://github.com/org/repo.git//path",
            "failed to parse repo path segment",
        ),
        (
            "git@ssh://github.com/org/repo.git//path",
            "failed to parse repo path segment",
        ),
    ];
    for (url, want) in bad {
        let err = RepoSpec::parse(url).expect_err(url).to_string();
        assert!(err.contains(want), "{url}: {err}");
    }
}

/// kustomize's end-to-end table: input, clone URL, host, repository, root, ref.
#[test]
#[allow(clippy::too_many_lines)] // one row per case: a table, not logic
fn kustomize_examples() {
    let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somedir",
            "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo",
            "https://git-codecommit.us-east-2.amazonaws.com/",
            "someorg/somerepo",
            "somedir",
            "",
        ),
        (
            "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somedir?ref=testbranch",
            "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo",
            "https://git-codecommit.us-east-2.amazonaws.com/",
            "someorg/somerepo",
            "somedir",
            "testbranch",
        ),
        (
            "https://fabrikops2.visualstudio.com/someorg/somerepo?ref=master",
            "https://fabrikops2.visualstudio.com/someorg/somerepo",
            "https://fabrikops2.visualstudio.com/",
            "someorg/somerepo",
            "",
            "master",
        ),
        (
            "http://github.com/someorg/somerepo/somedir",
            "https://github.com/someorg/somerepo",
            "https://github.com/",
            "someorg/somerepo",
            "somedir",
            "",
        ),
        (
            "git@github.com:someorg/somerepo/somedir",
            "git@github.com:someorg/somerepo",
            "git@github.com:",
            "someorg/somerepo",
            "somedir",
            "",
        ),
        (
            "http://github.com/someorg/somerepo.git/somedir",
            "https://github.com/someorg/somerepo.git",
            "https://github.com/",
            "someorg/somerepo.git",
            "somedir",
            "",
        ),
        (
            "git@github.com:someorg/somerepo.git/somedir",
            "git@github.com:someorg/somerepo.git",
            "git@github.com:",
            "someorg/somerepo.git",
            "somedir",
            "",
        ),
        (
            "git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git?ref=v0.1.0",
            "git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git",
            "git@gitlab2.sqtools.ru:",
            "infra/kubernetes/thanos-base.git",
            "",
            "v0.1.0",
        ),
        (
            "git@bitbucket.org:company/project.git//path?ref=branch",
            "git@bitbucket.org:company/project.git",
            "git@bitbucket.org:",
            "company/project.git",
            "path",
            "branch",
        ),
        (
            "git@bitbucket.org/company/project.git//path?ref=branch",
            "git@bitbucket.org/company/project.git",
            "git@bitbucket.org/",
            "company/project.git",
            "path",
            "branch",
        ),
        (
            "ssh://git@bitbucket.org/company/project.git//path?ref=branch",
            "ssh://git@bitbucket.org/company/project.git",
            "ssh://git@bitbucket.org/",
            "company/project.git",
            "path",
            "branch",
        ),
        (
            "https://itfs.mycompany.com/collection/project/_git/somerepos",
            "https://itfs.mycompany.com/collection/project/_git/somerepos",
            "https://itfs.mycompany.com/",
            "collection/project/_git/somerepos",
            "",
            "",
        ),
        (
            "https://itfs.mycompany.com/collection/project/_git/somerepos?version=v1.0.0",
            "https://itfs.mycompany.com/collection/project/_git/somerepos",
            "https://itfs.mycompany.com/",
            "collection/project/_git/somerepos",
            "",
            "v1.0.0",
        ),
        (
            "https://itfs.mycompany.com/collection/project/_git/somerepos/somedir?version=v1.0.0",
            "https://itfs.mycompany.com/collection/project/_git/somerepos",
            "https://itfs.mycompany.com/",
            "collection/project/_git/somerepos",
            "somedir",
            "v1.0.0",
        ),
        (
            "git::https://itfs.mycompany.com/collection/project/_git/somerepos",
            "https://itfs.mycompany.com/collection/project/_git/somerepos",
            "https://itfs.mycompany.com/",
            "collection/project/_git/somerepos",
            "",
            "",
        ),
        (
            "https://bitbucket.example.com/scm/project/repository.git",
            "https://bitbucket.example.com/scm/project/repository.git",
            "https://bitbucket.example.com/",
            "scm/project/repository.git",
            "",
            "",
        ),
        (
            "ssh://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somepath",
            "ssh://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo",
            "ssh://git-codecommit.us-east-2.amazonaws.com/",
            "someorg/somerepo",
            "somepath",
            "",
        ),
        (
            "git@github.com/someorg/somerepo/somepath",
            "git@github.com:someorg/somerepo",
            "git@github.com:",
            "someorg/somerepo",
            "somepath",
            "",
        ),
        (
            "https://github.com/kubernetes-sigs/kustomize//examples/multibases/dev/?ref=v1.0.6",
            "https://github.com/kubernetes-sigs/kustomize",
            "https://github.com/",
            "kubernetes-sigs/kustomize",
            "examples/multibases/dev/",
            "v1.0.6",
        ),
        (
            "file://a/b/c/someRepo.git/somepath?ref=someBranch",
            "file://a/b/c/someRepo.git",
            "file://",
            "a/b/c/someRepo.git",
            "somepath",
            "someBranch",
        ),
        (
            "file://a/b/c/someRepo//somepath?ref=someBranch",
            "file://a/b/c/someRepo",
            "file://",
            "a/b/c/someRepo",
            "somepath",
            "someBranch",
        ),
        (
            "file://a/b/c/someRepo?ref=someBranch",
            "file://a/b/c/someRepo",
            "file://",
            "a/b/c/someRepo",
            "",
            "someBranch",
        ),
        (
            "file:///a/b/c/someRepo?ref=someBranch",
            "file:///a/b/c/someRepo",
            "file://",
            "/a/b/c/someRepo",
            "",
            "someBranch",
        ),
        (
            "ssh://git@github.com/kubernetes-sigs/kustomize//examples/multibases/dev?ref=v1.0.6",
            "git@github.com:kubernetes-sigs/kustomize",
            "git@github.com:",
            "kubernetes-sigs/kustomize",
            "examples/multibases/dev",
            "v1.0.6",
        ),
        (
            "file:///a/b/c/someRepo",
            "file:///a/b/c/someRepo",
            "file://",
            "/a/b/c/someRepo",
            "",
            "",
        ),
        ("file:///", "file:///", "file://", "/", "", ""),
        (
            "https://example.org/path/to/repo//examples/multibases/dev",
            "https://example.org/path/to/repo",
            "https://example.org/",
            "path/to/repo",
            "examples/multibases/dev",
            "",
        ),
        (
            "https://example.org/path/to/repo.git/examples/multibases/dev",
            "https://example.org/path/to/repo.git",
            "https://example.org/",
            "path/to/repo.git",
            "examples/multibases/dev",
            "",
        ),
        (
            "ssh://alice@example.com/path/to/repo//examples/multibases/dev",
            "ssh://alice@example.com/path/to/repo",
            "ssh://alice@example.com/",
            "path/to/repo",
            "examples/multibases/dev",
            "",
        ),
        (
            "https://authority/org/repo?ref=group/version",
            "https://authority/org/repo",
            "https://authority/",
            "org/repo",
            "",
            "group/version",
        ),
        (
            "https://authority/org/repo/?ref=includes_git/for_some_reason",
            "https://authority/org/repo",
            "https://authority/",
            "org/repo",
            "",
            "includes_git/for_some_reason",
        ),
        (
            "https://authority/org/repo/?ref=includes.git/for_some_reason",
            "https://authority/org/repo",
            "https://authority/",
            "org/repo",
            "",
            "includes.git/for_some_reason",
        ),
        (
            "https://authority/org/repo/%-invalid-uri-so-not-parsable-by-net/url.Parse",
            "https://authority/org/repo",
            "https://authority/",
            "org/repo",
            "%-invalid-uri-so-not-parsable-by-net/url.Parse",
            "",
        ),
        (
            "ssh://myusername@bitbucket.org/ourteamname/ourrepositoryname.git//path?ref=branch",
            "ssh://myusername@bitbucket.org/ourteamname/ourrepositoryname.git",
            "ssh://myusername@bitbucket.org/",
            "ourteamname/ourrepositoryname.git",
            "path",
            "branch",
        ),
        (
            "file://git@home/path/to/repository.git//path?ref=branch",
            "file://git@home/path/to/repository.git",
            "file://",
            "git@home/path/to/repository.git",
            "path",
            "branch",
        ),
        (
            "http://git@home.com/path/to/repository.git//path?ref=branch",
            "http://git@home.com/path/to/repository.git",
            "http://git@home.com/",
            "path/to/repository.git",
            "path",
            "branch",
        ),
        (
            "https://git@home.com/path/to/repository.git//path?ref=branch",
            "https://git@home.com/path/to/repository.git",
            "https://git@home.com/",
            "path/to/repository.git",
            "path",
            "branch",
        ),
        (
            "ssh://git@ssh.github.com:443/YOUR-USERNAME/YOUR-REPOSITORY.git",
            "ssh://git@ssh.github.com:443/YOUR-USERNAME/YOUR-REPOSITORY.git",
            "ssh://git@ssh.github.com:443/",
            "YOUR-USERNAME/YOUR-REPOSITORY.git",
            "",
            "",
        ),
        (
            "git@gitlab.com/user:name/YOUR-REPOSITORY.git/path",
            "git@gitlab.com/user:name/YOUR-REPOSITORY.git",
            "git@gitlab.com/",
            "user:name/YOUR-REPOSITORY.git",
            "path",
            "",
        ),
        (
            "git@gitlab.com:gitlab-tests/sample-project.git",
            "git@gitlab.com:gitlab-tests/sample-project.git",
            "git@gitlab.com:",
            "gitlab-tests/sample-project.git",
            "",
            "",
        ),
        (
            "git@gitlab.com:gitlab-tests/sample-project",
            "git@gitlab.com:gitlab-tests/sample-project",
            "git@gitlab.com:",
            "gitlab-tests/sample-project",
            "",
            "",
        ),
        (
            "https://username@dev.azure.com/org/project/_git/repo//path/to/kustomization/root",
            "https://username@dev.azure.com/org/project/_git/repo",
            "https://username@dev.azure.com/",
            "org/project/_git/repo",
            "path/to/kustomization/root",
            "",
        ),
        (
            "https://org.visualstudio.com/project/_git/repo/path/to/kustomization/root",
            "https://org.visualstudio.com/project/_git/repo",
            "https://org.visualstudio.com/",
            "project/_git/repo",
            "path/to/kustomization/root",
            "",
        ),
        (
            "ssh://org-12345@github.com/kubernetes-sigs/kustomize",
            "org-12345@github.com:kubernetes-sigs/kustomize",
            "org-12345@github.com:",
            "kubernetes-sigs/kustomize",
            "",
            "",
        ),
        (
            "org-12345@github.com/kubernetes-sigs/kustomize",
            "org-12345@github.com:kubernetes-sigs/kustomize",
            "org-12345@github.com:",
            "kubernetes-sigs/kustomize",
            "",
            "",
        ),
        (
            "git@gist.github.com:bc7947cb727d7f9217e7862d961a1ffd.git",
            "git@gist.github.com:bc7947cb727d7f9217e7862d961a1ffd.git",
            "git@gist.github.com:",
            "bc7947cb727d7f9217e7862d961a1ffd.git",
            "",
            "",
        ),
        (
            "https://gist.github.com/bc7947cb727d7f9217e7862d961a1ffd.git",
            "https://gist.github.com/bc7947cb727d7f9217e7862d961a1ffd.git",
            "https://gist.github.com/",
            "bc7947cb727d7f9217e7862d961a1ffd.git",
            "",
            "",
        ),
    ];
    for &(input, clone, host, repo, root, r) in cases {
        let s = spec(input);
        assert_eq!(s.clone_url(), clone, "{input}");
        assert_eq!(s.host, host, "{input}");
        assert_eq!(s.repo_path, repo, "{input}");
        assert_eq!(s.root_path, root, "{input}");
        assert_eq!(s.git_ref.as_deref().unwrap_or(""), r, "{input}");
        assert!(s.submodules, "{input}");
        assert_eq!(s.timeout, DEFAULT_TIMEOUT, "{input}");
    }
}

/// `ref` wins over `version`; empty, malformed or zero values keep the defaults.
#[test]
fn query_options() {
    let d = DEFAULT_TIMEOUT;
    let cases: &[(&str, &str, bool, Duration)] = &[
        ("", "", true, d),
        ("ref=v1.0.0", "v1.0.0", true, d),
        ("ref=kustomize/v4.5.7", "kustomize/v4.5.7", true, d),
        ("version=master", "master", true, d),
        ("version=master&ref=v1.0.0", "v1.0.0", true, d),
        ("version=master&submodules=", "master", true, d),
        ("version=master&submodules=maybe", "master", true, d),
        ("version=master&submodules=true", "master", true, d),
        ("version=master&submodules=false", "master", false, d),
        ("version=master&timeout=", "master", true, d),
        ("version=master&timeout=jiffy", "master", true, d),
        ("version=master&timeout=0", "master", true, d),
        ("version=master&timeout=0s", "master", true, d),
        (
            "version=master&timeout=61",
            "master",
            true,
            Duration::from_secs(61),
        ),
        (
            "version=master&timeout=1m1s",
            "master",
            true,
            Duration::from_secs(61),
        ),
        (
            "version=master&submodules=false&timeout=1m1s",
            "master",
            false,
            Duration::from_secs(61),
        ),
        // Not decodable as a whole: every option at its default.
        ("ref=v1&submodules=false;x", "", true, d),
        ("ref=%zz&submodules=false", "", true, d),
        ("ref=a%2Fb+c", "a/b c", true, d),
    ];
    for &(query, r, submodules, timeout) in cases {
        let q = Query::parse(query);
        assert_eq!(q.git_ref.as_deref().unwrap_or(""), r, "{query}");
        assert_eq!(q.submodules, submodules, "{query}");
        assert_eq!(q.timeout, timeout, "{query}");
    }
}

/// Which `http(s)://` URLs are repositories (and which stay plain files, refused).
#[test]
fn git_or_plain_file() {
    for git in [
        "https://github.com/org/repo//deploy?ref=v1",
        "https://example.org/org/repo.git/deploy",
        "https://example.org/org/repo?ref=main",
        "git::https://example.org/org/repo",
        "https://github.com/org/repo/deploy",
        "https://dev.azure.com/org/project/_git/repo",
        "ssh://git@example.org/org/repo",
        "file:///tmp/repo",
        "github.com/org/repo",
    ] {
        assert!(spec(git).is_git_like(), "{git}");
    }
    for file in [
        "https://raw.githubusercontent.com/org/repo/main/deploy.yaml",
        "https://example.org/manifests/all",
        "https://github.com/org/repo/blob/main/deploy.yaml",
    ] {
        assert!(!spec(file).is_git_like(), "{file}");
    }
}
