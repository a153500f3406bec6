infopackData("text/0000","aGVsbG8=");
