

def test_bad_nfs_configuration_stops_the_start_clearly(make_daemon, nfs, tmp_path):
    shares = tmp_path / "shares"
    shares.write_text(nfs.shares[0] + "\n")
    cases = [
        ({"nfs_shares_config": str(tmp_path / "missing")}, "nfs_shares_config"),
        ({"nfs_shares_config": str(shares), "nfs_mount_options": "vers=4"},
         "only NFS version 3"),
        ({"nfs_shares_config": str(shares), "nfs_mount_options": "port=1,mountport=1"},
         "no NFS share answers"),
    ]
    for opts, expected in cases:
        d = make_daemon(backends={"nfs1": dict({"volume_driver": "nfs"}, **opts)})
        with pytest.raises(RuntimeError) as e:
            d.start()
        assert expected in str(e.value), str(e.value)[-2000:]
