{
  "targets": [
    {
      "target_name": "sultry_ktls",
      "sources": ["ktls.cc", "uring.cc"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"defines": ["SULTRY_NO_KTLS"]}]]
    }
  ]
}
