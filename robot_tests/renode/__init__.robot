*** Settings ***
Documentation     Suites in Renode's own style, for users who have Renode: run them with `renode-test`, e.g.
...                   renode-test robot_tests/renode/boot_and_protocol.robot
...               renode-test provides ${RENODEKEYWORDS} (Setup, Execute Command, Create Terminal Tester...).
...               Plain `robot robot_tests/` (this project's CI) skips this folder with this reason:
...               renode-test builds each file on its own, so this __init__ file is never part of its runs.
Suite Setup       Skip    Renode-style suites need renode-test (Renode's Robot keywords); not run by plain robot
Test Tags         renode-test
