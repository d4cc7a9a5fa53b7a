print("podkv")
